"""Connecting a brand's record: every registered kind moves, choices merge to the stricter,
the shell goes, a control customer is untouched, and the work is a constant number of
statements whatever the size."""

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.hashers import make_password
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from accounts.consent_history import consent_event_record
from accounts.models import (
    AuditEvent,
    ConsentEvent,
    Customer,
    CustomerBrand,
    KindSetting,
    PurposeConsent,
    WebhookDelivery,
)
from ledger.models import Address, ContactPreference, Event, PersonalFact
from tests.factories import (
    AddressFactory,
    ContactPreferenceFactory,
    EventFactory,
    PersonalFactFactory,
)
from tests.transparency.test_erasure import seed_every_kind, snapshot
from transparency import connect, registry, selectors
from transparency.connect import customer_connect
from transparency.standards.chain import chain_verify

User = get_user_model()


@pytest.fixture
def rec_calls(monkeypatch):
    calls = []
    for name in ("customer_recompute_request", "brand_retrain_request", "customer_cache_forget"):
        monkeypatch.setattr(
            connect.rec_services, name, lambda _name=name, **kw: calls.append((_name, kw))
        )
    return calls


def _shell(username: str) -> Customer:
    """A record as ingest makes it: a user nobody can sign in as, never signed in."""
    user = User.objects.create(username=username, password=make_password(None))
    return Customer.objects.create(user=user)


def _ids(customer) -> dict[str, list[int]]:
    return {
        k.name: sorted(k.rows_for(customer).values_list("pk", flat=True))
        for k in registry.all_kinds()
    }


def _me(customer) -> Customer:
    """The signed-in person's record after connecting (its row id may have changed)."""
    return Customer.objects.get(user_id=customer.user_id)


@pytest.mark.parametrize("larger", ["brand record", "signed-in record"])
def test_connecting_moves_every_row_of_every_registered_kind(
    alice, bob, northwind, rec_calls, larger
):
    shell = _shell("b1-shell")
    product = northwind.products[0]
    seed_every_kind(shell, northwind.brand, product)
    seed_every_kind(bob, northwind.brand, product)  # the control, with the same brand
    bigger = shell if larger == "brand record" else alice
    for _ in range(30):
        EventFactory(customer=bigger, brand=northwind.brand, product=product)
    shell_rows, alice_rows = _ids(shell), _ids(alice)
    assert all(shell_rows.values()), [name for name, pks in shell_rows.items() if not pks]
    bob_before = snapshot(bob)
    public_id, user_id = alice.public_id, alice.user_id

    joined = customer_connect(customer=alice, brand=northwind.brand, ref="ref-b1-shell")

    me = _me(alice)
    assert joined.customer == me
    assert (me.public_id, me.user_id) == (public_id, user_id)  # the same person, seen outside
    for kind in registry.all_kinds():
        model = kind.get_model()._base_manager
        if kind.merge.identity:  # the shell's own login: removed, never yours
            gone = model.filter(pk__in=shell_rows[kind.name])
            if kind.get_model() is Customer:  # its row may live on, as yours
                gone = gone.exclude(public_id=public_id)
            assert not gone.exists(), kind.name
            continue
        now_mine = set(kind.rows_for(me).values_list("pk", flat=True))
        assert set(shell_rows[kind.name]) <= now_mine, kind.name
        assert set(alice_rows[kind.name]) <= now_mine, kind.name
        assert joined.counts[kind.name] == len(shell_rows[kind.name]), kind.name
    assert not User.objects.filter(username="b1-shell").exists()
    assert Customer.objects.filter(user__username__in=["alice", "bob"]).count() == 2
    assert Customer.objects.count() == 2
    assert snapshot(bob) == bob_before


def test_connecting_is_audited_as_done_by_you_and_asks_for_a_recompute_and_retrain(
    alice, northwind, rec_calls
):
    northwind.shell("nw-1", orders=2, events=3)

    customer_connect(customer=alice, brand=northwind.brand, ref="nw-1")

    row = AuditEvent.objects.get(customer=_me(alice), action="connect")
    assert selectors.access_log_actor(row) == "You"
    assert "Northwind Outfitters" in row.reason
    assert ("customer_recompute_request", {"customer_id": _me(alice).pk}) in rec_calls
    assert (
        "brand_retrain_request",
        {"brand_id": northwind.brand.pk, "reason": "customer connected"},
    ) in rec_calls
    # The brand's own history of the record comes along (who created it, what it sent).
    assert AuditEvent.objects.filter(customer=_me(alice), action="ingest").count() == 3


def test_the_brand_hears_customer_connected_with_its_reference_only(alice, northwind, rec_calls):
    northwind.shell("nw-1")
    northwind.endpoint("https://brand.example/hooks")

    customer_connect(customer=alice, brand=northwind.brand, ref="nw-1")

    delivery = WebhookDelivery.objects.get(event_type="customer.connected")
    assert '"customer_ref":"nw-1"' in delivery.payload
    assert "alice" not in delivery.payload


def test_a_purpose_off_on_either_side_stays_off(alice, northwind, rec_calls):
    northwind.shell("nw-1")  # the brand's defaults: personalization on, contact on
    PurposeConsent.objects.filter(
        customer__brand_links__external_ref="nw-1", purpose="contact"
    ).update(granted=False)
    PurposeConsent.objects.create(customer=alice, purpose="personalization", granted=False)
    PurposeConsent.objects.create(customer=alice, purpose="contact", granted=True)

    customer_connect(customer=alice, brand=northwind.brand, ref="nw-1")

    me = _me(alice)
    state = dict(PurposeConsent.objects.filter(customer=me).values_list("purpose", "granted"))
    assert state["personalization"] is False  # off on alice's side
    assert state["contact"] is False  # off on the brand's record
    assert PurposeConsent.objects.filter(customer=me).count() == len(state)  # no duplicates


def test_a_kind_switched_off_on_either_side_stays_off(alice, northwind, rec_calls):
    shell = northwind.shell("nw-1")
    KindSetting.objects.create(customer=shell, data_kind="event", in_use=False)
    KindSetting.objects.create(customer=shell, data_kind="order", in_use=True)
    KindSetting.objects.create(customer=alice, data_kind="order", in_use=False)
    KindSetting.objects.create(customer=alice, data_kind="event", in_use=True)

    customer_connect(customer=alice, brand=northwind.brand, ref="nw-1")

    settings = KindSetting.objects.filter(customer=_me(alice))
    assert dict(settings.values_list("data_kind", "in_use")) == {
        "event": False,
        "order": False,
    }


def test_the_history_keeps_both_sides_and_records_each_merged_choice(alice, northwind, rec_calls):
    northwind.shell("nw-1")
    PurposeConsent.objects.create(customer=alice, purpose="personalization", granted=False)
    consent_event_record(
        customer_id=alice.pk, purpose="personalization", granted=False, channel="dashboard"
    )
    brand_history = ConsentEvent.objects.filter(customer__brand_links__external_ref="nw-1").count()
    assert brand_history  # the brand's defaults, channel "default"

    customer_connect(customer=alice, brand=northwind.brand, ref="nw-1")

    history = ConsentEvent.objects.filter(customer=_me(alice))
    assert history.filter(channel="dashboard").count() == 1
    assert history.filter(channel="default").count() == brand_history
    merged = history.get(channel="connect", purpose="personalization")
    assert merged.granted is False
    assert "stricter" in merged.actor_label
    # Both sides' hash chains survive the move, with the merged rows chained on.
    assert chain_verify(customer_id=_me(alice).pk).ok


def test_rows_unique_per_customer_merge_instead_of_duplicating(alice, northwind, rec_calls):
    shell = northwind.shell("nw-1")
    PersonalFactFactory(
        customer=shell, brand=northwind.brand, field="phone", value="1", in_use=False
    )
    mine = PersonalFactFactory(customer=alice, field="phone", value="2")
    ContactPreferenceFactory(customer=shell, brand=None, channel="none")
    own_pref = ContactPreferenceFactory(customer=alice, brand=None, channel="email")

    customer_connect(customer=alice, brand=northwind.brand, ref="nw-1")

    me = _me(alice)
    fact = PersonalFact.objects.get(customer=me, field="phone")
    assert fact.pk == mine.pk and fact.value == "2"  # your value stays...
    assert fact.in_use is False  # ...but off on either side stays off
    pref = ContactPreference.objects.get(customer=me, brand=None)
    assert pref.pk == own_pref.pk and pref.channel == "none"


def test_only_one_default_address_remains_yours(alice, northwind, rec_calls):
    shell = northwind.shell("nw-1")
    theirs = AddressFactory(customer=shell, brand=northwind.brand, is_default=True)
    mine = AddressFactory(customer=alice, is_default=True)

    customer_connect(customer=alice, brand=northwind.brand, ref="nw-1")

    me = _me(alice)
    assert list(Address.objects.filter(customer=me, is_default=True)) == [mine]
    assert Address.objects.get(pk=theirs.pk).customer == me


def test_connecting_takes_the_same_statements_for_ten_or_a_thousand_events(
    alice, bob, northwind, rec_calls
):
    def measure(customer, ref, n):
        shell = northwind.shell(ref, events=0)
        product = northwind.products[0]
        Event.objects.bulk_create(
            Event(
                customer=shell,
                brand=northwind.brand,
                product=product,
                kind="view",
                occurred_at=timezone.now(),
            )
            for _ in range(n)
        )
        with CaptureQueriesContext(connection) as ctx:
            joined = customer_connect(customer=customer, brand=northwind.brand, ref=ref)
        assert joined.counts["event"] == n
        return len(ctx.captured_queries)

    assert measure(alice, "nw-small", 10) == measure(bob, "nw-big", 1000)


def test_the_shell_is_recognised_only_while_nobody_can_sign_in_to_it(alice, northwind):
    shell = northwind.shell("nw-1")

    assert connect.customer_is_shell(shell.pk)
    assert not connect.customer_is_shell(alice.pk)
    shell.user.last_login = timezone.now()
    shell.user.save()
    assert not connect.customer_is_shell(shell.pk)


def test_the_preview_counts_what_the_brand_sent(alice, northwind):
    northwind.shell("nw-1", orders=2, events=5)
    target = connect.connect_target(customer=alice, brand=northwind.brand, ref="nw-1")

    counts = dict(connect.connect_preview(target=target))

    assert counts["Orders"] == 2
    assert counts["Order lines"] == 2
    assert counts["Activity"] == 5
    assert "Account" not in counts  # the shell's login is not data the brand sent
    assert "Access log" not in counts and "Brands you deal with" not in counts
    assert CustomerBrand.objects.get(external_ref="nw-1").customer_id == target.shell_id
