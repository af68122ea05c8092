"""Global Privacy Control (`Sec-GPC: 1`) on every surface the customer's browser reaches."""

import pytest
from django.urls import reverse

from accounts.models import AuditEvent, ConsentEvent, CustomerBrand
from ledger.models import Event
from tests.widget import URL, Shop
from transparency import selectors, services
from transparency.standards import gpc

GPC = {"HTTP_SEC_GPC": "1"}


def _gpc_rows(customer):
    return ConsentEvent.objects.filter(customer=customer, channel="gpc")


def _state(customer) -> dict:
    return {r["purpose"]: r["granted"] for r in selectors.purposes_state(customer=customer)}


@pytest.fixture
def shop(alice):
    shop = Shop("shop-a")
    shop.link(alice, "cust-alice")
    shop.recommend(alice)
    return shop


def test_the_dashboard_opts_out_of_sharing_once(alice_client, alice, rec_calls):
    services.purpose_set_granted(customer=alice, purpose="cross_brand", granted=True)

    for _ in range(3):
        assert alice_client.get(reverse("dashboard:home"), **GPC).status_code == 200

    assert _state(alice)["cross_brand"] is False and _state(alice)["third_party"] is False
    rows = _gpc_rows(alice)
    assert rows.count() == 2  # one per purpose, recorded once
    assert set(rows.values_list("purpose", flat=True)) == {"cross_brand", "third_party"}
    assert not rows.filter(granted=True).exists()
    assert _state(alice)["personalization"] is True  # only sharing is opted out of


def test_without_the_header_nothing_happens(alice_client, alice):
    alice_client.get(reverse("dashboard:home"))
    alice_client.get(reverse("dashboard:home"), HTTP_SEC_GPC="0")

    assert not _gpc_rows(alice).exists()


def test_my_data_says_the_browser_asked_and_it_is_honoured(alice_client, alice, rec_calls):
    page = alice_client.get(reverse("dashboard:data"), **GPC).content.decode()

    assert 'id="gpc"' in page and "Global Privacy Control" in page
    assert "we honour it" in page


def test_the_customers_later_choice_stands(alice_client, alice, rec_calls):
    alice_client.get(reverse("dashboard:home"), **GPC)
    services.purpose_set_granted(customer=alice, purpose="cross_brand", granted=True)
    gpc.cache.clear()

    alice_client.get(reverse("dashboard:home"), **GPC)

    assert _state(alice)["cross_brand"] is True
    assert _gpc_rows(alice).count() == 2


def test_the_link_page_honours_it_for_a_signed_in_customer(alice_client, alice, rec_calls):
    alice_client.get(reverse("link_open"), {"token": "not-a-token"}, **GPC)

    assert _gpc_rows(alice).count() == 2


def test_the_widget_honours_it_for_the_token_holder(client, alice, shop, rec_calls):
    response = client.get(
        URL,
        {"key": shop.key},
        HTTP_ORIGIN=shop.origin,
        HTTP_AUTHORIZATION=f"Bearer {shop.token('cust-alice')}",
        **GPC,
    )

    assert response.status_code == 200
    assert _gpc_rows(alice).count() == 2
    assert _state(alice)["third_party"] is False


def test_widget_events_and_link_in_the_browser_honour_it(client, alice, bob, shop, rec_calls):
    shop.link(bob, "cust-bob")
    headers = {"HTTP_ORIGIN": shop.origin, "HTTP_AUTHORIZATION": f"Bearer {shop.token('cust-bob')}"}

    link = client.post(f"/api/v1/widget/link?key={shop.key}", **headers, **GPC)
    assert link.status_code == 200
    assert _gpc_rows(bob).count() == 2

    shop.post_event(client, {"type": "click", "product_ids": [shop.products[0].pk]},
                    token=shop.token("cust-alice"))  # fmt: skip
    assert not _gpc_rows(alice).exists()  # no header, no opt-out
    client.post(
        f"/api/v1/widget/events?key={shop.key}",
        {"type": "click", "product_ids": [shop.products[0].pk]},
        content_type="application/json",
        HTTP_ORIGIN=shop.origin,
        HTTP_AUTHORIZATION=f"Bearer {shop.token('cust-alice')}",
        **GPC,
    )
    assert _gpc_rows(alice).count() == 2


def test_an_anonymous_widget_visitor_with_gpc_leaves_nothing(client, shop):
    counts = (ConsentEvent.objects.count(), AuditEvent.objects.count(), Event.objects.count())
    links = CustomerBrand.objects.count()

    client.get(URL, {"key": shop.key}, HTTP_ORIGIN=shop.origin, **GPC)
    client.get(
        URL,
        {"key": shop.key},
        HTTP_ORIGIN=shop.origin,
        HTTP_AUTHORIZATION=f"Bearer {shop.token('nobody-we-know')}",
        **GPC,
    )
    shop.post_event(client, {"type": "click", "product_ids": [shop.products[0].pk]})
    client.post(
        f"/api/v1/widget/events?key={shop.key}",
        {"type": "click", "product_ids": [shop.products[0].pk]},
        content_type="application/json",
        HTTP_ORIGIN=shop.origin,
        **GPC,
    )

    assert (ConsentEvent.objects.count(), AuditEvent.objects.count(), Event.objects.count()) == (
        counts
    )
    assert CustomerBrand.objects.count() == links
