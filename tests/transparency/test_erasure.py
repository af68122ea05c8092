"""Deletion: one point, a kind, a brand, the whole account — bulk, with receipts (D2-D5)."""

import json
from datetime import timedelta

import pytest
from allauth.account.models import EmailAddress
from allauth.mfa.models import Authenticator
from allauth.usersessions.models import UserSession
from django.apps import apps
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone
from freezegun import freeze_time

from accounts.keys import tombstone_digest
from accounts.models import (
    AuditEvent,
    ConsentEvent,
    CustomerBrand,
    ErasureTombstone,
    KindSetting,
    PurposeConsent,
)
from ledger.models import Event, Order, OrderLine
from recommendations.models import TrainingRun
from tests.factories import (
    AddressFactory,
    BrandFactory,
    ContactPreferenceFactory,
    CustomerBrandFactory,
    DataRequestFactory,
    DeletionReceiptFactory,
    EventFactory,
    MessageFactory,
    OrderFactory,
    OrderLineFactory,
    PartnerAttributeFactory,
    PaymentMethodFactory,
    PersonalFactFactory,
    ProductFactory,
)
from transparency import registry, retrains, services
from transparency.models import DataRequest, DeletionReceipt

TOTP_SECRET = "JBSWY3DPEHPK3PXP{}"


def _model(label):
    return apps.get_model(label)


# One way to create a row of every registered kind. A kind registered without an entry
# here fails test_the_seed_map_covers_every_registered_kind.
SEEDS = {
    "account": lambda c, b, p: c.user,
    "customer_record": lambda c, b, p: c,
    "email_address": lambda c, b, p: EmailAddress.objects.create(
        user=c.user, email=f"{c.user.username}@example.com", verified=True, primary=True
    ),
    "mfa_authenticator": lambda c, b, p: Authenticator.objects.create(
        user=c.user, type="totp", data={"secret": TOTP_SECRET.format(c.user.username.upper())}
    ),
    "session": lambda c, b, p: UserSession.objects.create(
        user=c.user, ip="203.0.113.7", session_key=f"sessionkey{c.user.username}", user_agent="UA"
    ),
    "access_log": lambda c, b, p: AuditEvent.objects.create(
        customer=c, actor_kind="brand", actor_brand=b, data_kind="event", action="create"
    ),
    "brand_link": lambda c, b, p: CustomerBrandFactory(
        customer=c, brand=b, external_ref=f"ref-{c.user.username}"
    ),
    "consent": lambda c, b, p: PurposeConsent.objects.create(
        customer=c, purpose="contact", granted=True
    ),
    "consent_history": lambda c, b, p: ConsentEvent.objects.create(
        customer=c, purpose="contact", granted=True, channel="dashboard"
    ),
    "kind_setting": lambda c, b, p: KindSetting.objects.create(
        customer=c, data_kind="address", in_use=False
    ),
    "personal_fact": lambda c, b, p: PersonalFactFactory(
        customer=c, brand=b, value=f"Legal Name Of {c.user.username}"
    ),
    "address": lambda c, b, p: AddressFactory(
        customer=c, brand=b, line1=f"1 {c.user.username} Street"
    ),
    "payment_method": lambda c, b, p: PaymentMethodFactory(
        customer=c, brand=b, processor_token=f"tok_secret_{c.user.username}"
    ),
    "contact_preference": lambda c, b, p: ContactPreferenceFactory(customer=c, brand=b),
    "order": lambda c, b, p: OrderFactory(customer=c, brand=b, external_id=f"o-{c.pk}"),
    "order_line": lambda c, b, p: OrderLineFactory(
        order=OrderFactory(customer=c, brand=b), product=p
    ),
    "event": lambda c, b, p: EventFactory(customer=c, brand=b, product=p),
    "message": lambda c, b, p: MessageFactory(customer=c, brand=b, external_id=f"m-{c.pk}"),
    "partner_attribute": lambda c, b, p: PartnerAttributeFactory(
        customer=c, brand=b, value=f"band of {c.user.username}"
    ),
    "recommendation": lambda c, b, p: _model("recommendations.Recommendation").objects.create(
        customer=c, brand=b, product=p, rank=1, score=0.5
    ),
    "inferred_interest": lambda c, b, p: _model("recommendations.InferredInterest").objects.create(
        customer=c, brand=b, category="Books", weight=0.5
    ),
    "contact_hour": lambda c, b, p: _model("recommendations.ContactHourInference").objects.create(
        customer=c, brand=b, hour=9, confidence=0.5
    ),
    "deletion_receipt": lambda c, b, p: DeletionReceiptFactory(customer=c),
    "data_request": lambda c, b, p: DataRequestFactory(customer=c),
}


def seed_every_kind(customer, brand, product) -> None:
    for kind in registry.all_kinds():
        SEEDS[kind.name](customer, brand, product)
    # A second order line on the seeded order exercises OrderLine -> Order ordering.
    order = Order.objects.filter(customer=customer).first()
    OrderLineFactory(order=order, product=product)
    # An order shipped to a seeded address exercises the SET_NULL link.
    Order.objects.filter(pk=order.pk).update(
        shipping_address=AddressFactory(customer=customer, brand=brand)
    )


def snapshot(customer) -> dict:
    return {
        kind.name: sorted(kind.rows_for(customer).order_by("pk").values_list())
        for kind in registry.all_kinds()
    }


@pytest.fixture
def brand(db):
    return BrandFactory(slug="acme", name="Acme")


@pytest.fixture
def product(brand):
    return ProductFactory(brand=brand, name="Walking boots")


@pytest.fixture
def no_hooks(rec_calls):
    return rec_calls


def test_the_seed_map_covers_every_registered_kind():
    assert set(SEEDS) == {kind.name for kind in registry.all_kinds()}


def test_it_erases_every_kind_of_the_owner_and_leaves_the_control_untouched(
    alice, bob, brand, product
):
    for customer in (alice, bob):
        seed_every_kind(customer, brand, product)
    ids = {
        k.name: list(k.rows_for(alice).values_list("pk", flat=True)) for k in registry.all_kinds()
    }
    assert all(ids.values()), [name for name, pks in ids.items() if not pks]
    bob_before = snapshot(bob)

    services.account_erase(customer=alice)

    for kind in registry.all_kinds():
        assert kind.rows_for(alice).count() == 0, kind.name
        rows = kind.get_model()._base_manager.filter(pk__in=ids[kind.name])
        if kind.kept_as_proof:  # kept, detached, content-free
            assert not rows.filter(customer__isnull=False).exists(), kind.name
        else:
            assert not rows.exists(), kind.name
    assert snapshot(bob) == bob_before


def test_it_leaves_a_tombstone_with_the_brands_digest_for_each_link(alice, brand):
    CustomerBrandFactory(customer=alice, brand=brand, external_ref="acme-42")

    services.account_erase(customer=alice)

    assert ErasureTombstone.objects.filter(
        brand=brand, ref_digest=tombstone_digest(brand.pk, "acme-42")
    ).exists()
    assert not ErasureTombstone.objects.filter(ref_digest__contains="acme-42").exists()


def test_ingest_after_erasure_stores_nothing(alice, brand, product):
    from ledger.ingest import events_ingest
    from ledger.schemas import EventIn

    CustomerBrandFactory(customer=alice, brand=brand, external_ref="acme-42")
    services.account_erase(customer=alice)
    item = EventIn(
        external_id="late-1",
        customer_ref="acme-42",
        kind="view",
        occurred_at=timezone.now(),
        product_ref=product.external_id,
    )

    result = events_ingest(brand=brand, items=[item])

    assert result.stored == 0
    assert result.dropped == 1
    assert not Event.objects.filter(external_id="late-1").exists()
    assert not CustomerBrand.objects.filter(external_ref="acme-42").exists()


def test_a_receipt_holds_no_personal_content(alice, brand, product):
    seed_every_kind(alice, brand, product)
    personal = [alice.user.username, str(alice.public_id), "Legal Name Of alice"]
    personal += ["1 alice Street", "tok_secret_alice", "alice@example.com", "acme-42"]

    receipt = services.account_erase(customer=alice)

    raw = json.dumps(
        list(DeletionReceipt.objects.filter(pk=receipt.pk).values()), default=str
    ) + json.dumps(list(DataRequest.objects.filter(receipt=receipt).values()), default=str)
    for value in personal:
        assert value not in raw
    assert receipt.kinds["event"] == 1
    assert receipt.kinds["order_line"] == 2
    assert receipt.customer_id is None


def test_audit_rows_are_append_only(alice):
    event = AuditEvent.objects.filter(customer=alice).first()
    event.action = "tampered"

    with pytest.raises(ValueError, match="append-only"):
        event.save()


def test_a_point_deletion_shows_its_impact_first_and_leaves_a_receipt(
    alice_client, alice, brand, product, no_hooks
):
    order = OrderFactory(customer=alice, brand=brand)
    OrderLineFactory(order=order, product=product)
    OrderLineFactory(order=order, product=product)
    url = reverse("dashboard:data_point_delete", args=["order", order.pk])

    preview = alice_client.get(url)

    assert preview.status_code == 200
    assert b"What will be deleted" in preview.content
    assert b"2</strong> \xc3\x97 Order lines" in preview.content
    assert Order.objects.filter(pk=order.pk).exists()

    response = alice_client.post(url)

    receipt = DeletionReceipt.objects.get(customer=alice)
    assert response.url == reverse("receipt", args=[receipt.public_id])
    assert receipt.kinds == {"order": 1, "order_line": 2}
    assert not OrderLine.objects.filter(order_id=order.pk).exists()
    page = alice_client.get(response.url).content.decode()
    assert "Order lines" in page and "retraining scheduled" in page
    assert ("customer_results_purge", {"customer_id": alice.pk}) in no_hooks
    assert ("customer_recompute_request", {"customer_id": alice.pk}) in no_hooks
    assert (
        "brand_retrain_request",
        {"brand_id": brand.pk, "reason": "deletion (point)", "withdrawn": True},
    ) in no_hooks
    assert AuditEvent.objects.filter(customer=alice, action="delete", data_kind="order").exists()


def test_deleting_an_address_keeps_the_order_but_unlinks_it(alice, brand, no_hooks):
    address = AddressFactory(customer=alice, brand=brand)
    order = OrderFactory(customer=alice, brand=brand, shipping_address=address)

    services.data_delete(customer=alice, scope="point", kind_name="address", pk=address.pk)

    order.refresh_from_db()
    assert order.shipping_address_id is None


def test_a_kind_deletion_is_a_constant_number_of_statements(alice, bob, brand, product, no_hooks):
    def statements(n):
        Event.objects.bulk_create(
            Event(customer=alice, brand=brand, kind="view", occurred_at=timezone.now())
            for _ in range(n)
        )
        with CaptureQueriesContext(connection) as ctx:
            receipt = services.data_delete(customer=alice, scope="kind", kind_name="event")
        assert receipt.kinds == {"event": n}
        return len(ctx.captured_queries)

    EventFactory(customer=bob, brand=brand, product=product)

    assert statements(5) == statements(500)
    assert Event.objects.filter(customer=bob).count() == 1


def test_a_brand_deletion_takes_only_that_brands_data(alice, brand, product, no_hooks):
    other = BrandFactory(slug="other")
    EventFactory(customer=alice, brand=brand, product=product)
    kept = EventFactory(customer=alice, brand=other)
    CustomerBrandFactory(customer=alice, brand=brand)

    receipt = services.data_delete(customer=alice, scope="brand", brand_id=brand.pk)

    assert receipt.kinds == {"event": 1, "brand_link": 1}
    assert list(Event.objects.filter(customer=alice)) == [kept]


@pytest.mark.parametrize(
    "kind", sorted(k.name for k in registry.all_kinds() if k.not_deletable_alone)
)
def test_kinds_that_go_only_with_the_account_cannot_be_deleted_alone(
    alice_client, alice, brand, product, kind
):
    SEEDS[kind](alice, brand, product)
    before = registry.get(kind).rows_for(alice).count()
    receipts = DeletionReceipt.objects.count()

    response = alice_client.post(reverse("dashboard:data_kind_delete", args=[kind]))

    assert response.status_code == 302
    assert registry.get(kind).rows_for(alice).count() >= before > 0  # a request adds a session
    assert DeletionReceipt.objects.count() == receipts


def test_erase_all_needs_recent_reauthentication(alice_client, alice):
    response = alice_client.post(reverse("dashboard:data_account_delete"))

    assert response.status_code == 302
    assert response.url.startswith(reverse("account_reauthenticate"))
    alice.refresh_from_db()  # still there
    assert not DeletionReceipt.objects.exists()


def test_erase_all_works_after_reauthentication_and_signs_out(
    alice_client, alice, password, brand, product, no_hooks
):
    EventFactory(customer=alice, brand=brand, product=product)
    suspended = alice_client.post(reverse("dashboard:data_account_delete"))

    # The reauthentication page resumes the suspended POST once the password is right.
    response = alice_client.post(suspended.url, {"password": password})

    receipt = DeletionReceipt.objects.get()
    assert response.status_code == 302
    assert response.url == reverse("receipt", args=[receipt.public_id])
    assert receipt.scope == "account" and receipt.kinds["event"] == 1
    assert not type(alice).objects.filter(pk=alice.pk).exists()
    assert not type(alice.user).objects.filter(pk=alice.user_id).exists()
    assert DataRequest.objects.get(receipt=receipt).kind == "erasure"
    page = alice_client.get(response.url)
    assert b"The whole account" in page.content
    assert alice_client.get(reverse("dashboard:data")).status_code == 302  # signed out


def test_past_the_reauthentication_timeout_nothing_is_deleted(alice_client, alice, password):
    with freeze_time(timezone.now()) as frozen:
        alice_client.post(reverse("account_reauthenticate"), {"password": password})
        frozen.tick(timedelta(seconds=301))

        response = alice_client.post(reverse("dashboard:data_account_delete"))

    assert response.url.startswith(reverse("account_reauthenticate"))
    assert type(alice).objects.filter(pk=alice.pk).exists()
    assert not DeletionReceipt.objects.exists()


def test_a_retrain_marks_the_receipt_with_the_model_version(alice, brand, product, no_hooks):
    EventFactory(customer=alice, brand=brand, product=product)
    receipt = services.data_delete(customer=alice, scope="kind", kind_name="event")
    assert receipt.model_versions_after == {str(brand.pk): None}
    later = timezone.now() + timedelta(seconds=1)
    run, other = (TrainingRun.objects.create(brand=brand) for _ in range(2))

    assert retrains.marks_retrained(
        brand_id=brand.pk, run_id=run.pk, data_read_from=later, finished_at=later
    )
    assert not retrains.marks_retrained(
        brand_id=brand.pk, run_id=other.pk, data_read_from=later, finished_at=later
    )

    receipt.refresh_from_db()
    assert receipt.model_versions_after == {str(brand.pk): run.pk}


def test_deleting_a_point_purges_its_recommendations_and_asks_for_a_retrain(alice, brand, product):
    from recommendations.models import Recommendation, TrainingRun

    event = EventFactory(customer=alice, brand=brand, product=product)
    Recommendation.objects.create(
        customer=alice,
        brand=brand,
        product=ProductFactory(brand=brand),
        rank=1,
        score=1.0,
        explanation=[{"kind": "event", "pk": event.pk, "label": "viewed", "date": "2026-01-01"}],
    )

    receipt = services.data_delete(customer=alice, scope="point", kind_name="event", pk=event.pk)

    assert not Recommendation.objects.filter(customer=alice).exists()
    assert TrainingRun.objects.filter(brand=brand, state="pending").exists()
    assert receipt.model_versions_after == {str(brand.pk): None}


def test_the_preview_names_the_recommendations_that_will_change(alice_client, alice, brand):
    from recommendations.models import Recommendation

    event = EventFactory(customer=alice, brand=brand)
    Recommendation.objects.create(
        customer=alice,
        brand=brand,
        product=ProductFactory(brand=brand, name="Trail socks"),
        rank=1,
        score=1.0,
        explanation=[{"kind": "event", "pk": event.pk, "label": "viewed", "date": "2026-01-01"}],
    )

    page = alice_client.get(reverse("dashboard:data_point_delete", args=["event", event.pk]))

    assert b"Recommendations that will change" in page.content
    assert b"Trail socks" in page.content


def test_deleting_a_point_drops_the_cached_widget_results(alice, brand, product):
    from django.core.cache import cache

    from recommendations.selectors import training_data, widget_cache_key

    event = EventFactory(customer=alice, brand=brand, product=product)
    key = widget_cache_key(brand.pk, alice.pk)
    cache.set(key, [{"product_id": product.pk}], 600)

    services.data_delete(customer=alice, scope="point", kind_name="event", pk=event.pk)

    assert cache.get(key) is None
    data = training_data(brand_id=brand.pk)
    assert not [p for pts in data.points.values() for p in pts if p.pk == event.pk]


# --- nothing personal outside the database afterwards (D8) ---------------------------------


def test_after_erasure_no_cache_entry_or_queued_work_names_the_customer(
    alice, brand, product, monkeypatch, django_capture_on_commit_callbacks
):
    from django.core.cache import cache

    from accounts import outbox
    from accounts.models import OutboxMessage
    from recommendations.selectors import widget_cache_key

    CustomerBrandFactory(customer=alice, brand=brand, external_ref="acme-42")
    EventFactory(customer=alice, brand=brand, product=product)
    key = widget_cache_key(brand.pk, alice.pk)
    cache.set(key, [{"product_id": product.pk}], 600)
    # A recompute asked for while the broker was down, still waiting for the relay.
    OutboxMessage.objects.create(
        task_name="recommendations.recompute_customer",
        kwargs={"customer_id": alice.pk},
        dedupe_key=f"recompute:{alice.pk}",
    )
    published = []
    monkeypatch.setattr(outbox, "_send", lambda message, **kw: published.append(message.kwargs))

    with django_capture_on_commit_callbacks(execute=True):
        services.account_erase(customer=alice)

    assert cache.get(key) is None
    waiting = list(OutboxMessage.objects.values_list("kwargs", flat=True))
    for kwargs in waiting + published:
        assert kwargs.get("customer_id") != alice.pk, kwargs
        assert "acme-42" not in json.dumps(kwargs) and "alice" not in json.dumps(kwargs)
    assert published  # the retrain was asked for: by brand and receipt, nobody named


@pytest.mark.redis
def test_after_erasure_no_serving_process_remembers_the_customers_answer(client, alice):
    from recommendations.widget import memo as widget_memo
    from tests.conftest import wait_for
    from tests.widget import Shop

    shop = Shop("shop-a")
    shop.link(alice, "cust-alice")
    shop.recommend(alice)
    assert shop.get(client, token=shop.token("cust-alice")).json()["personalized"] is True
    assert (shop.brand.pk, "cust-alice") in widget_memo.memo().entries

    services.account_erase(customer=alice)

    assert wait_for(
        lambda: (shop.brand.pk, "cust-alice") not in widget_memo.memo().entries, timeout=5
    )


def _receipt_page(client, receipt) -> str:
    response = client.get(reverse("receipt", args=[receipt.public_id]))
    assert response.status_code == 200
    return response.content.decode()


def test_a_receipt_seen_without_signing_in_names_no_brand_and_no_person(
    client, alice, bob, product, no_hooks
):
    private = BrandFactory(slug="quiet-clinic", name="Quiet Clinic")
    EventFactory(customer=alice, brand=private, product=ProductFactory(brand=private))
    receipt = services.data_delete(customer=alice, scope="kind", kind_name="event")
    assert receipt.model_versions_after == {str(private.pk): None}

    anonymous = _receipt_page(client, receipt)
    client.force_login(bob.user)
    someone_else = _receipt_page(client, receipt)
    client.force_login(alice.user)
    owner = _receipt_page(client, receipt)

    for page in (anonymous, someone_else):
        assert "Quiet Clinic" not in page and "alice" not in page
        assert "Brand 1: retraining scheduled" in page
    assert "Quiet Clinic: retraining scheduled" in owner


def test_an_erased_accounts_receipt_names_no_brand_and_no_person(client, alice, no_hooks):
    private = BrandFactory(slug="quiet-clinic", name="Quiet Clinic")
    CustomerBrandFactory(customer=alice, brand=private, external_ref="qc-7")
    EventFactory(customer=alice, brand=private, product=ProductFactory(brand=private))

    receipt = services.account_erase(customer=alice)

    page = _receipt_page(client, receipt)
    assert "The whole account" in page
    for value in ("Quiet Clinic", "quiet-clinic", "alice", "qc-7", str(alice.public_id)):
        assert value not in page
