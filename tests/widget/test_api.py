"""The widget API: brand isolation (B2), guessed ids (G4), limits, escaping (G5), consent."""

import pytest

from accounts.models import AuditEvent, KindSetting, PurposeConsent
from ledger.models import Event
from recommendations.models import Recommendation
from tests.factories import ProductFactory
from tests.widget import URL, Shop

pytestmark = pytest.mark.django_db


@pytest.fixture
def other(alice, bob):
    other = Shop("shop-b", origin="https://shop-b.example")
    other.link(alice, "alice-at-b")
    other.link(bob, "cust-bob")
    other.recommend(alice)
    other.recommend(bob)
    return other


def _ids(response):
    return {item["product_id"] for item in response.json()["items"]}


def test_it_never_shows_another_brands_products_or_customers(client, shop, other):
    mine = {p.pk for p in shop.products}

    anonymous = shop.get(client)
    personal = shop.get(client, token=shop.token("cust-alice"))
    bobs_ref = shop.get(client, token=shop.token("cust-bob"))  # B's customer, A's signature
    alices_b_ref = shop.get(client, token=shop.token("alice-at-b"))

    assert personal.json()["personalized"] is True
    for response in (anonymous, personal, bobs_ref, alices_b_ref):
        assert response.status_code == 200
        assert _ids(response) <= mine
    assert bobs_ref.content == anonymous.content
    assert alices_b_ref.content == anonymous.content


def test_it_reveals_nothing_personal_for_a_guessed_customer_ref(client, shop):
    anonymous = shop.get(client)

    guesses = [
        client.get(URL, {"key": shop.key, "token": "cust-alice"}, HTTP_ORIGIN=shop.origin),
        client.get(URL, {"key": shop.key, "customer": "cust-alice"}, HTTP_ORIGIN=shop.origin),
        client.get(URL, {"key": shop.key, "sub": "cust-alice"}, HTTP_ORIGIN=shop.origin),
        shop.get(client, token="cust-alice"),
    ]

    for response in guesses:
        assert response.status_code == 200
        assert response.content == anonymous.content
        assert response.json()["personalized"] is False
        assert response.json()["label"] == "Popular right now"
        assert all(item["why"] == "" for item in response.json()["items"])


def test_it_answers_429_past_the_rate_limit(client, shop, settings):
    settings.WIDGET_RATE_LIMIT = 3

    codes = [shop.get(client).status_code for _ in range(3)]
    limited = shop.get(client)
    other_ip = client.get(URL, {"key": shop.key}, HTTP_ORIGIN=shop.origin, REMOTE_ADDR="10.0.0.9")

    assert codes == [200, 200, 200]
    assert limited.status_code == 429
    assert limited.json() == {"error": "Too many requests."}
    assert 1 <= int(limited["Retry-After"]) <= 61
    assert limited["Access-Control-Allow-Origin"] == shop.origin  # the widget can read it
    assert other_ip.status_code == 200


def test_it_returns_markup_in_a_product_name_as_a_plain_json_string(client, shop):
    name = '<script>alert("x")</script><img src=x onerror=alert(1)>'
    product = ProductFactory(brand=shop.brand, name=name)
    Recommendation.objects.all().delete()

    response = shop.get(client, n=20)

    assert response["Content-Type"] == "application/json"
    assert response["X-Content-Type-Options"] == "nosniff"
    names = {item["product_id"]: item["name"] for item in response.json()["items"]}
    assert names[product.pk] == name


def test_it_gives_the_same_customer_the_popular_list_when_personalization_is_off(
    client, shop, alice
):
    token = shop.token("cust-alice")
    assert shop.get(client, token=token).json()["personalized"] is True
    PurposeConsent.objects.create(customer=alice, purpose="personalization", granted=False)

    off = shop.get(client, token=token)

    assert off.status_code == 200
    assert off.content == shop.get(client).content
    assert off.json()["personalized"] is False


def test_it_marks_personal_answers_private_and_varies_on_origin_and_authorization(client, shop):
    personal = shop.get(client, token=shop.token("cust-alice"))
    anonymous = shop.get(client)

    assert "private" in personal["Cache-Control"]
    assert "public" not in personal["Cache-Control"]
    for response in (personal, anonymous):
        vary = {v.strip().lower() for v in response["Vary"].split(",")}
        assert {"origin", "authorization"} <= vary


def test_it_only_returns_the_documented_fields(client, shop):
    item = shop.get(client, token=shop.token("cust-alice")).json()["items"][0]

    assert set(item) == {
        "product_id",
        "external_id",
        "name",
        "category",
        "price",
        "image_url",
        "why",
    }


# --- events -------------------------------------------------------------------------


def _widget_events(customer=None):
    rows = Event.objects.filter(kind__in=["widget_impression", "widget_click", "not_interested"])
    return rows.filter(customer=customer) if customer is not None else rows


def test_it_stores_nothing_for_anonymous_events(client, shop):
    ids = [p.pk for p in shop.products]
    audits = AuditEvent.objects.count()

    for kind in ("impression", "click", "not_interested"):
        response = shop.post_event(client, {"type": kind, "product_ids": ids})
        assert response.status_code == 204
    forged = shop.post_event(client, {"type": "click", "product_ids": ids}, token="cust-alice")

    assert forged.status_code == 204
    assert _widget_events().count() == 0
    assert AuditEvent.objects.count() == audits


def test_it_records_events_for_a_consenting_token_holder_with_an_audit_row(client, shop, alice):
    token = shop.token("cust-alice")
    ids = [p.pk for p in shop.products[:2]]

    response = shop.post_event(client, {"type": "click", "product_ids": ids}, token=token)

    assert response.status_code == 204
    events = _widget_events(alice)
    assert sorted(events.values_list("product_id", flat=True)) == sorted(ids)
    assert set(events.values_list("kind", "source", "brand_id")) == {
        ("widget_click", "observed", shop.brand.pk)
    }
    audit = AuditEvent.objects.filter(customer=alice, data_kind="event").first()
    assert audit.actor_kind == "brand"
    assert audit.actor_label == f"{shop.brand.name} (widget)"


def test_it_dedupes_impressions(client, shop, alice):
    token = shop.token("cust-alice")
    body = {"type": "impression", "product_ids": [p.pk for p in shop.products[:3]]}

    shop.post_event(client, body, token=token)
    shop.post_event(client, body, token=token)

    assert _widget_events(alice).filter(kind="widget_impression").count() == 3


def test_it_records_no_events_without_consent(client, shop, alice):
    PurposeConsent.objects.create(customer=alice, purpose="personalization", granted=False)
    body = {"type": "click", "product_ids": [shop.products[0].pk]}

    response = shop.post_event(client, body, token=shop.token("cust-alice"))

    assert response.status_code == 204
    assert _widget_events().count() == 0


def test_it_records_no_events_when_activity_is_switched_off(client, shop, alice):
    KindSetting.objects.create(customer=alice, data_kind="event", in_use=False)
    body = {"type": "impression", "product_ids": [shop.products[0].pk]}

    shop.post_event(client, body, token=shop.token("cust-alice"))

    assert _widget_events().count() == 0


def test_it_ignores_another_brands_products_in_events(client, shop, other, alice):
    body = {"type": "click", "product_ids": [p.pk for p in other.products]}

    response = shop.post_event(client, body, token=shop.token("cust-alice"))

    assert response.status_code == 204
    assert _widget_events().count() == 0


def test_it_drops_a_product_the_holder_does_not_want(client, shop, alice):
    product = shop.products[0]
    token = shop.token("cust-alice")

    response = shop.post_event(
        client, {"type": "not_interested", "product_ids": [product.pk]}, token=token
    )

    assert response.status_code == 204
    assert _widget_events(alice).filter(kind="not_interested", product=product).count() == 1
    assert not Recommendation.objects.filter(customer=alice, product=product).exists()
    assert product.pk not in _ids(shop.get(client, token=token))


def test_it_rejects_malformed_event_bodies_without_storing(client, shop):
    token = shop.token("cust-alice")

    for body in ({"type": "purchase", "product_ids": [1]}, {"type": "click"}, {}):
        assert shop.post_event(client, body, token=token).status_code == 422
    assert _widget_events().count() == 0
