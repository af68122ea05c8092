"""The widget's event endpoint checks its input against the columns it reaches (G3)."""

from urllib.parse import urlencode

import pytest

from ledger.models import Event
from tests.widget import EVENTS_URL, URL, Shop

pytestmark = pytest.mark.django_db


@pytest.fixture
def shop(alice):
    shop = Shop("shop-a")
    shop.link(alice, "cust-alice")
    return shop


@pytest.mark.parametrize("bad", [2**63, 2**64, 10**30, -1, 0])
def test_it_refuses_product_ids_no_column_can_hold(client, shop, bad):
    body = {"type": "click", "product_ids": [shop.products[0].pk, bad]}

    response = shop.post_event(client, body, token=shop.token("cust-alice"))

    assert response.status_code == 422, response.content
    assert response.json()["field"] == "product_ids.1"
    assert not Event.objects.exists()


@pytest.mark.parametrize("key", ["pk_\x00", "pk_é", "k" * 61])
def test_it_refuses_a_key_that_cannot_be_looked_up(client, shop, key):
    body = {"type": "click", "product_ids": [shop.products[0].pk]}

    response = client.post(
        f"{EVENTS_URL}?{urlencode({'key': key})}",
        body,
        content_type="application/json",
        HTTP_ORIGIN=shop.origin,
    )

    assert response.status_code in (400, 403, 422), response.content
    assert not Event.objects.exists()


def test_it_still_records_valid_ids(client, shop, alice):
    ids = [p.pk for p in shop.products[:2]]

    response = shop.post_event(
        client, {"type": "click", "product_ids": ids}, token=shop.token("cust-alice")
    )

    assert response.status_code == 204
    assert sorted(Event.objects.filter(customer=alice).values_list("product_id", flat=True)) == ids


@pytest.mark.parametrize("key", ["pk_\x00", "pk_\x00\x00"])
def test_the_recommendations_refuse_a_key_that_cannot_be_looked_up(client, shop, key):
    response = client.get(URL, {"key": key}, HTTP_ORIGIN=shop.origin)

    assert response.status_code in (400, 422), response.content
