"""The server-to-server ingest API: /api/v1/ingest/{customers,products,orders,events}."""

import json
import logging
from datetime import UTC, datetime, timedelta

import pytest
from django.apps import apps
from django.db import connection, models

from accounts.append_only import history_rewrite
from accounts.keys import server_key_create, server_key_revoke, tombstone_digest, widget_key_create
from accounts.models import (
    AuditEvent,
    ConsentEvent,
    Customer,
    CustomerBrand,
    ErasureTombstone,
    KindSetting,
    Purpose,
    PurposeConsent,
    Sensitivity,
)
from ledger.models import Event, Order, OrderLine, Product
from tests.factories import BrandFactory, CustomerBrandFactory, ProductFactory
from tests.ledger.ingest_helpers import BASE, event, order, post
from transparency import registry

# key lookup + last_used_at, savepoint + release, products, links, customers' lock, consents,
# kind settings, existing ids, bulk insert, audit insert (all refs known: no tombstone lookup)
EVENT_BATCH_QUERIES = 12
# key lookup + last_used_at, savepoint + release, links, tombstones, users, customers,
# links, consents, consent history, audit
CUSTOMER_BATCH_QUERIES = 12
# The customers endpoint also counts what a brand's record had kept or dropped (tests/record).
NO_RECORD = {"third_party_dropped": 0, "customer_values_kept": 0}


# --- happy paths ---------------------------------------------------------------------------


def test_it_creates_customers_linked_to_the_brand_with_its_defaults(client, brand, key):
    response = post(
        client, "customers", {"items": [{"external_ref": "c-1"}, {"external_ref": "c-2"}]}, key
    )

    assert response.status_code == 200, response.content
    assert response.json() == {"stored": 2, "duplicates": 0, "dropped": 0, **NO_RECORD}
    links = CustomerBrand.objects.filter(brand=brand).select_related("customer__user")
    assert sorted(link.external_ref for link in links) == ["c-1", "c-2"]
    assert registry.get("brand_link").source == registry.Source.THIRD_PARTY
    for link in links:
        user = link.customer.user
        assert not user.has_usable_password()
        assert "c-1" not in user.username and "c-2" not in user.username
        consents = dict(
            PurposeConsent.objects.filter(customer=link.customer).values_list("purpose", "granted")
        )
        assert consents == {
            Purpose.PERSONALIZATION: True,
            Purpose.CONTACT: True,
            Purpose.CROSS_BRAND: False,
            Purpose.THIRD_PARTY: False,
        }
        history = ConsentEvent.objects.filter(customer=link.customer)
        assert history.count() == 4
        assert set(history.values_list("channel", flat=True)) == {"default"}
        audit = AuditEvent.objects.get(customer=link.customer)
        assert (audit.actor_kind, audit.actor_brand_id, audit.action) == (
            "brand",
            brand.pk,
            "ingest",
        )


def test_it_counts_a_known_customer_as_a_duplicate(client, brand, key):
    post(client, "customers", {"items": [{"external_ref": "c-1"}]}, key)

    response = post(
        client, "customers", {"items": [{"external_ref": "c-1"}, {"external_ref": "c-1"}]}, key
    )

    assert response.json() == {"stored": 0, "duplicates": 2, "dropped": 0, **NO_RECORD}
    assert Customer.objects.count() == 1


def test_it_upserts_products(client, brand, key):
    items = [
        {"external_id": "p-1", "name": "Boot", "category": "Footwear", "price": "99.00"},
        {"external_id": "p-2", "name": "Sock", "price": 5},
    ]
    assert post(client, "products", {"items": items}, key).json() == {
        "stored": 2,
        "duplicates": 0,
        "dropped": 0,
    }

    items[0]["price"] = "89.00"
    response = post(client, "products", {"items": items}, key)

    assert response.json() == {"stored": 1, "duplicates": 1, "dropped": 0}
    boot = Product.objects.get(brand=brand, external_id="p-1")
    assert (boot.name, boot.category, str(boot.price)) == ("Boot", "Footwear", "89.00")
    assert Product.objects.filter(brand=brand).count() == 2


def test_it_stores_orders_with_their_lines(client, brand, key, shopper, shoe):
    response = post(
        client, "orders", {"items": [order(1), order(2, is_gift=True, total="30")]}, key
    )

    assert response.json() == {"stored": 2, "duplicates": 0, "dropped": 0}
    first = Order.objects.get(external_id="ord-1")
    assert (first.customer, first.brand, first.source) == (shopper.customer, brand, "observed")
    assert str(first.total) == "21.00"
    line = OrderLine.objects.get(order=first)
    assert (line.product, line.quantity, str(line.unit_price)) == (shoe, 2, "10.50")
    assert Order.objects.get(external_id="ord-2").is_gift
    audit = AuditEvent.objects.get(customer=shopper.customer, data_kind="order")
    assert audit.action == "ingest"


def test_it_stores_events(client, brand, key, shopper, shoe):
    items = [event(1), event(2, kind="search", product_ref=None, query="boots")]

    response = post(client, "events", {"items": items}, key)

    assert response.json() == {"stored": 2, "duplicates": 0, "dropped": 0}
    view = Event.objects.get(external_id="ev-1")
    assert (view.customer, view.brand, view.source, view.product) == (
        shopper.customer,
        brand,
        "observed",
        shoe,
    )
    assert view.occurred_at == datetime(2026, 3, 1, 10, tzinfo=UTC)
    assert view.in_use
    assert Event.objects.get(external_id="ev-2").query == "boots"


def test_it_writes_one_audit_row_per_customer_per_batch(client, brand, key, shopper, shoe, bob):
    CustomerBrandFactory(customer=bob, brand=brand, external_ref="cust-2")
    items = [event(n, ref="cust-1" if n % 2 else "cust-2") for n in range(50)]

    post(client, "events", {"items": items}, key)

    rows = AuditEvent.objects.filter(data_kind="event")
    assert rows.count() == 2
    assert {r.customer_id for r in rows} == {shopper.customer_id, bob.pk}
    assert {r.actor_brand_id for r in rows} == {brand.pk}


def test_it_keeps_events_of_a_kind_switched_off_but_not_in_use(client, key, shopper, shoe):
    KindSetting.objects.create(customer=shopper.customer, data_kind="event", in_use=False)

    post(client, "events", {"items": [event(1)]}, key)

    assert Event.objects.get(external_id="ev-1").in_use is False


# --- idempotency (F3) ----------------------------------------------------------------------


def test_it_stores_a_redelivered_event_once(client, key, shopper, shoe):
    batch = {"items": [event(1), event(2), event(1)]}

    first = post(client, "events", batch, key)
    second = post(client, "events", batch, key)

    assert first.json() == {"stored": 2, "duplicates": 1, "dropped": 0}
    assert second.json() == {"stored": 0, "duplicates": 3, "dropped": 0}
    assert Event.objects.count() == 2


def test_it_stores_a_redelivered_order_once(client, key, shopper, shoe):
    post(client, "orders", {"items": [order(1)]}, key)

    response = post(client, "orders", {"items": [order(1)]}, key)

    assert response.json() == {"stored": 0, "duplicates": 1, "dropped": 0}
    assert Order.objects.count() == 1
    assert OrderLine.objects.count() == 1


# --- all-or-nothing validation (G3) -------------------------------------------------------


@pytest.mark.parametrize(
    "bad, field",
    [
        ({"kind": "teleport"}, "kind"),
        ({"product_ref": "no-such-sku"}, "product_ref"),
        ({"occurred_at": "2026-03-01T10:00:00"}, "occurred_at"),
        ({"external_id": None}, "external_id"),
        ({"customer_ref": "nobody"}, "customer_ref"),
        ({"value": "NaN"}, "value"),
        ({"query": "a\x00b"}, "query"),
    ],
)
def test_it_rejects_the_whole_batch_naming_the_bad_item(client, key, shopper, shoe, bad, field):
    items = [event(n) for n in range(5)]
    items[3].update(bad)
    items[3] = {k: v for k, v in items[3].items() if v is not None}

    response = post(client, "events", {"items": items}, key)

    assert response.status_code == 422, response.content
    body = response.json()
    assert (body["index"], body["field"]) == (3, field)
    assert "item 3" in body["error"] and field in body["error"]
    assert Event.objects.count() == 0
    assert AuditEvent.objects.filter(data_kind="event").count() == 0


def test_it_rejects_an_order_with_an_unknown_product_in_a_line(client, key, shopper, shoe):
    items = [
        order(1),
        order(
            2,
            lines=[
                {"product_ref": "shoe", "unit_price": 1},
                {"product_ref": "nope", "unit_price": 1},
            ],
        ),
    ]

    response = post(client, "orders", {"items": items}, key)

    assert response.status_code == 422
    assert (response.json()["index"], response.json()["field"]) == (1, "lines.1.product_ref")
    assert Order.objects.count() == 0


def test_it_answers_400_to_malformed_json(client, key):
    response = post(client, "events", '{"items": [', key)

    assert response.status_code == 400
    assert response.json()["error"].startswith("malformed JSON: Expecting value at line 1")


def test_it_answers_413_to_a_body_over_the_limit(client, key, settings):
    settings.API_MAX_BODY_BYTES = 2 * 1024 * 1024
    body = json.dumps({"items": [{"external_ref": "x" * 100}] * 30000})
    assert len(body) > settings.API_MAX_BODY_BYTES

    response = post(client, "customers", body, key)

    assert response.status_code == 413
    assert "larger than 2097152 bytes" in response.json()["error"]
    assert Customer.objects.count() == 0


def test_it_refuses_a_batch_over_the_maximum(client, key, shopper, shoe):
    response = post(client, "events", {"items": [event(n) for n in range(1001)]}, key)

    assert response.status_code == 422
    assert response.json()["field"] == "items"
    assert Event.objects.count() == 0


def test_it_refuses_an_empty_batch(client, key):
    response = post(client, "events", {"items": []}, key)

    assert response.status_code == 422
    assert response.json()["field"] == "items"


# --- authentication and brand isolation (B2, B3) --------------------------------------------


def test_it_refuses_requests_without_a_valid_server_key(client, brand, key, shopper, shoe):
    revoked_key, revoked_raw = server_key_create(brand=brand)
    server_key_revoke(key=revoked_key)
    widget = widget_key_create(brand=brand, origins=["https://shop.example"])
    batch = {"items": [event(1)]}
    wrong_secret = key[: key.rindex("_") + 1] + "A" * 43

    answers = [
        post(client, "events", batch),
        post(client, "events", batch, "sk_nope_nope"),
        post(client, "events", batch, wrong_secret),
        post(client, "events", batch, revoked_raw),
        post(client, "events", batch, widget.key),
        post(client, "events", batch, HTTP_AUTHORIZATION=f"Token {key}"),
    ]

    assert [a.status_code for a in answers] == [401] * 6
    assert {a.json()["error"] for a in answers} == {"invalid or missing server key"}
    assert Event.objects.count() == 0


def test_a_brand_key_cannot_write_another_brands_customers(
    client, other_key, shopper, shoe, other_brand
):
    ProductFactory(brand=other_brand, external_id="shoe")

    response = post(client, "events", {"items": [event(1)]}, other_key)

    assert response.status_code == 422
    assert response.json()["field"] == "customer_ref"
    assert not Event.objects.filter(customer=shopper.customer).exists()


def test_a_brand_key_cannot_use_another_brands_products(
    client, brand, other_brand, other_key, bob, shoe
):
    CustomerBrandFactory(customer=bob, brand=other_brand, external_ref="cust-1")

    response = post(client, "orders", {"items": [order(1)]}, other_key)

    assert response.status_code == 422
    assert response.json()["field"] == "lines.0.product_ref"
    assert Order.objects.count() == 0


def test_a_brand_key_only_touches_its_own_catalog_and_customers(
    client, brand, other_brand, other_key, shopper, shoe
):
    products = post(
        client, "products", {"items": [{"external_id": "shoe", "name": "Other"}]}, other_key
    )
    customers = post(client, "customers", {"items": [{"external_ref": "cust-1"}]}, other_key)

    assert products.json()["stored"] == 1 and customers.json()["stored"] == 1
    shoe.refresh_from_db()
    assert shoe.name == "Shoe"
    assert Product.objects.get(brand=other_brand).name == "Other"
    other_link = CustomerBrand.objects.get(brand=other_brand)
    assert other_link.customer_id != shopper.customer_id
    assert CustomerBrand.objects.filter(customer=shopper.customer).count() == 1


def text_columns():
    for model in apps.get_models():
        for f in model._meta.concrete_fields:
            if isinstance(f, models.CharField | models.TextField | models.JSONField):
                yield model._meta.db_table, f.column


def test_a_database_dump_holds_no_plaintext_server_key(client, brand, key, shopper, shoe):
    post(client, "events", {"items": [event(1)]}, key)
    secret = key.split("_", 2)[2]
    quote = connection.ops.quote_name

    values = []
    with connection.cursor() as cursor:
        for table, column in text_columns():
            cursor.execute(f"SELECT {quote(column)} FROM {quote(table)}")  # noqa: S608
            values += [str(v) for (v,) in cursor.fetchall() if v is not None]
    dump = "\n".join(values)

    assert key.split("_")[1] in dump  # the scan sees the key table: the prefix is there
    assert secret not in dump
    assert key not in dump


# --- erasure and withdrawn purposes (D4, E1) -----------------------------------------------


def erase(link):
    ErasureTombstone.objects.create(
        brand=link.brand, ref_digest=tombstone_digest(link.brand_id, link.external_ref)
    )
    # Past the append-only access log and consent history the way erasure goes
    # (accounts.append_only); a plain delete is refused by PostgreSQL.
    with history_rewrite(reason="erasure"):
        link.customer.user.delete()


def test_it_drops_ingest_for_an_erased_customer(client, key, shopper, shoe):
    erase(shopper)

    events = post(client, "events", {"items": [event(1), event(2)]}, key)
    orders = post(client, "orders", {"items": [order(1)]}, key)
    customers = post(client, "customers", {"items": [{"external_ref": "cust-1"}]}, key)

    assert events.json() == {"stored": 0, "duplicates": 0, "dropped": 2}
    assert orders.json() == {"stored": 0, "duplicates": 0, "dropped": 1}
    assert customers.json() == {"stored": 0, "duplicates": 0, "dropped": 1, **NO_RECORD}
    assert (Event.objects.count(), Order.objects.count(), Customer.objects.count()) == (0, 0, 0)


def test_it_drops_events_when_personalization_is_withdrawn(client, key, shopper, shoe, bob, brand):
    PurposeConsent.objects.create(
        customer=shopper.customer, purpose=Purpose.PERSONALIZATION, granted=False
    )
    CustomerBrandFactory(customer=bob, brand=brand, external_ref="cust-2")

    response = post(client, "events", {"items": [event(1), event(2, ref="cust-2")]}, key)

    assert response.json() == {"stored": 1, "duplicates": 0, "dropped": 1}
    assert list(Event.objects.values_list("customer_id", flat=True)) == [bob.pk]


def test_it_keeps_orders_when_personalization_is_withdrawn_but_never_trains_on_them(
    client, key, shopper, shoe, brand
):
    from recommendations.selectors import training_data

    PurposeConsent.objects.create(
        customer=shopper.customer, purpose=Purpose.PERSONALIZATION, granted=False
    )

    response = post(client, "orders", {"items": [order(1)]}, key)

    assert response.json() == {"stored": 1, "duplicates": 0, "dropped": 0}
    stored = Order.objects.get(customer=shopper.customer)
    assert stored.lines.count() == 1  # order history and reorder still work
    data = training_data(brand_id=brand.pk)
    assert shopper.customer.pk not in set(data.users.tolist())
    assert data.personalization.get(shopper.customer.pk) is False


def test_it_drops_events_when_the_brand_default_is_off_and_no_choice_was_made(client, alice):
    bank = BrandFactory(slug="bank", sensitivity=Sensitivity.BANKING)
    CustomerBrandFactory(customer=alice, brand=bank, external_ref="cust-1")
    ProductFactory(brand=bank, external_id="shoe")
    key = server_key_create(brand=bank)[1]

    response = post(client, "events", {"items": [event(1)]}, key)

    assert response.json() == {"stored": 0, "duplicates": 0, "dropped": 1}


# --- docs, query counts, logs --------------------------------------------------------------


def test_the_openapi_schema_lists_every_operation(client, db):
    schema = client.get("/api/v1/openapi.json").json()

    operations = {(path, method) for path, ops in schema["paths"].items() for method in ops}
    assert {
        (f"{BASE}/{name}", "post") for name in ("customers", "products", "orders", "events")
    } <= operations
    assert schema["info"]["title"] == "Candor API"


def test_the_api_docs_answer(client, db):
    assert client.get("/api/v1/docs").status_code == 200


@pytest.mark.parametrize("size", [10, 1000])
def test_event_ingest_runs_a_constant_number_of_queries(
    client, key, shopper, shoe, bob, brand, size, django_assert_max_num_queries
):
    CustomerBrandFactory(customer=bob, brand=brand, external_ref="cust-2")
    ProductFactory(brand=brand, external_id="boot")
    items = [
        event(n, ref=f"cust-{n % 2 + 1}", product_ref=("shoe", "boot")[n % 2]) for n in range(size)
    ]

    with django_assert_max_num_queries(EVENT_BATCH_QUERIES):
        response = post(client, "events", {"items": items}, key)

    assert response.json()["stored"] == size


@pytest.mark.parametrize("size", [10, 1000])
def test_customer_ingest_runs_a_constant_number_of_queries(
    client, key, size, django_assert_max_num_queries
):
    items = [{"external_ref": f"c-{n}"} for n in range(size)]

    with django_assert_max_num_queries(CUSTOMER_BATCH_QUERIES):
        response = post(client, "customers", {"items": items}, key)

    assert response.json()["stored"] == size


def test_it_logs_no_key_and_no_customer_reference(client, key, shopper, shoe, caplog, settings):
    settings.DEBUG = True  # ninja's own bearer auth logs the header in debug mode
    with caplog.at_level(logging.DEBUG):
        post(client, "events", {"items": [event(1)]}, key)
        post(client, "events", {"items": [event(2)]}, HTTP_AUTHORIZATION=f"Token {key}")
        post(client, "events", {"items": [event(3, customer_ref="secret-ref")]}, key)

    assert key not in caplog.text
    assert "cust-1" not in caplog.text and "secret-ref" not in caplog.text


def test_the_timestamps_keep_their_offset(client, key, shopper, shoe):
    post(client, "events", {"items": [event(1, occurred_at="2026-03-01T12:00:00+02:00")]}, key)

    stored = Event.objects.get().occurred_at
    assert stored == datetime(2026, 3, 1, 10, tzinfo=UTC)
    assert stored - datetime(2026, 3, 1, 10, tzinfo=UTC) == timedelta(0)


# --- generated input (G1) ------------------------------------------------------------------


@pytest.mark.slow
@pytest.mark.parametrize("mode", ["positive", "negative"])
def test_generated_input_never_gets_a_server_error(client, key, shopper, shoe, mode):
    import schemathesis
    from hypothesis import HealthCheck, given
    from hypothesis import settings as hypothesis_settings
    from schemathesis.core import NotSet
    from schemathesis.generation import GenerationMode

    schema = schemathesis.openapi.from_dict(client.get("/api/v1/openapi.json").json())
    ingest_only = schema.include(path_regex="^/api/v1/ingest/")
    server_errors = []

    @given(case=ingest_only.as_strategy(GenerationMode(mode)))
    @hypothesis_settings(
        max_examples=80,
        deadline=None,
        database=None,
        derandomize=True,
        suppress_health_check=list(HealthCheck),
    )
    def check(case):
        body = b"" if isinstance(case.body, NotSet) else json.dumps(case.body, default=str)
        response = client.generic(
            case.method,
            case.formatted_path,
            body,
            content_type="application/json",
            HTTP_AUTHORIZATION=f"Bearer {key}",
        )
        if response.status_code >= 500:
            server_errors.append((case.method, case.formatted_path, body[:300]))
        else:
            assert "error" in response.json() or response.status_code == 200

    check()

    assert server_errors == []
