"""A brand's record goes where every other kind goes, through the registry: erasure leaves
0 rows, retention sweeps partner data by the brand's profile, the access log names it, and
connecting the brand's record moves it (stricter wins)."""

from datetime import timedelta

from django.db import connection
from django.utils import timezone

from accounts.models import AuditEvent, ConsentEvent, CustomerBrand, PurposeConsent
from ledger import services as ledger_services
from ledger.models import Address, ContactPreference, PartnerAttribute, PersonalFact
from tests.factories import ProductFactory
from tests.record import full_record, push
from tests.transparency.test_erasure import seed_every_kind, snapshot
from transparency import connect, registry, selectors, services

TABLES = (
    "ledger_personalfact",
    "ledger_address",
    "ledger_contactpreference",
    "ledger_partnerattribute",
)


def _raw_rows(customer_id: int) -> dict[str, int]:
    with connection.cursor() as cursor:
        counts = {}
        for table in TABLES:
            cursor.execute(f"SELECT COUNT(*) FROM {table} WHERE customer_id = %s", [customer_id])  # noqa: S608
            counts[table] = cursor.fetchone()[0]
        cursor.execute(
            "SELECT COUNT(*) FROM accounts_consentevent WHERE customer_id = %s", [customer_id]
        )
        counts["accounts_consentevent"] = cursor.fetchone()[0]
        return counts


def test_seeded_erasure_of_a_customer_with_a_full_record_leaves_0_rows(
    client, alice, bob, northwind, key
):
    product = ProductFactory(brand=northwind)
    for customer in (alice, bob):
        seed_every_kind(customer, northwind, product)
    CustomerBrand.objects.filter(customer=alice, brand=northwind).update(external_ref="nw-1")
    assert push(client, key, full_record("nw-1")).status_code == 200
    ledger_services.personal_facts_update(
        customer=alice, values={"email": "own@example.org"}, actor=services.Actor.customer(alice)
    )
    assert push(client, key, full_record("nw-1")).json()["customer_values_kept"] == 1
    assert all(_raw_rows(alice.pk).values()), _raw_rows(alice.pk)
    bob_before = snapshot(bob)

    services.account_erase(customer=alice)

    assert _raw_rows(alice.pk) == dict.fromkeys([*TABLES, "accounts_consentevent"], 0)
    for kind in registry.all_kinds():
        assert kind.rows_for(alice).count() == 0, kind.name
    assert snapshot(bob) == bob_before
    # Late pushes for the erased reference are dropped, third-party data counted too.
    late = push(client, key, full_record("nw-1")).json()
    assert (late["dropped"], late["third_party_dropped"]) == (1, 1)
    assert not PartnerAttribute.objects.filter(customer_id=alice.pk).exists()


def test_retention_sweeps_partner_data_by_the_brands_profile(client, alice, northwind, key):
    CustomerBrand.objects.create(customer=alice, brand=northwind, external_ref="nw-1")
    push(client, key, full_record("nw-1"))
    PartnerAttribute.objects.update(created_at=timezone.now() - timedelta(days=366))

    services.retention_sweep()

    assert not PartnerAttribute.objects.exists()
    assert PersonalFact.objects.filter(customer=alice).count() == 4  # kept with the account
    kind = registry.get("partner_attribute")
    assert selectors.retention_for(kind, "banking") == 90
    assert selectors.retention_for(kind, "retail") == 365


def test_the_access_log_names_the_brand_and_each_kind_it_sent(client, alice, northwind, key):
    CustomerBrand.objects.create(customer=alice, brand=northwind, external_ref="nw-1")
    push(client, key, full_record("nw-1"))

    logged = set(
        AuditEvent.objects.filter(customer=alice, actor_brand=northwind).values_list(
            "data_kind", "action"
        )
    )
    assert logged >= {
        ("personal_fact", "ingest"),
        ("address", "ingest"),
        ("contact_preference", "ingest"),
        ("consent_history", "ingest"),
        ("partner_attribute", "ingest"),
        ("consent", "ingest"),
    }


def test_connecting_the_brands_record_moves_it_and_keeps_the_stricter_choice(
    client, alice, northwind, key
):
    push(client, key, full_record("nw-shell"))  # a record made by ingest alone
    ledger_services.personal_facts_update(
        customer=alice, values={"email": "own@example.org"}, actor=services.Actor.customer(alice)
    )

    joined = connect.customer_connect(customer=alice, brand=northwind, ref="nw-shell")
    alice = joined.customer  # either record may be the one kept (the smaller side moves)

    facts = {f.field: f for f in PersonalFact.objects.filter(customer=alice)}
    assert facts["email"].value == "own@example.org"  # the signed-in customer's own wins
    assert facts["legal_name"].value == "Zebulon Quartermaine"
    assert Address.objects.get(customer=alice).external_id == "addr-home"
    assert ContactPreference.objects.filter(customer=alice, brand=northwind).exists()
    assert PartnerAttribute.objects.filter(customer=alice).count() == 1
    assert ConsentEvent.objects.filter(customer=alice, wording_version="v3").exists()
    assert PurposeConsent.objects.filter(customer=alice, purpose="third_party").exists()
