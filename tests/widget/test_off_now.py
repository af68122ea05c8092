"""Off means off from the next read: kind, purpose and point switches act on the very next
widget answer, with the worker down (no recompute has run, the stored results still cite
the switched-off data)."""

import pytest

from ledger.models import Order
from recommendations.models import Recommendation
from tests.factories import OrderFactory, OrderLineFactory
from transparency import services

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def worker_down(monkeypatch):
    """Nothing queued is ever run: no recompute, no retrain."""
    monkeypatch.setattr("accounts.outbox.publish", lambda *a, **kw: False)


def _whys(response) -> list[str]:
    return [item["why"] for item in response.json()["items"]]


def _add_order_cite(shop, alice, rec: Recommendation) -> Order:
    order = OrderFactory(customer=alice, brand=shop.brand)
    line = OrderLineFactory(order=order, product=shop.products[3])
    rec.explanation = [
        *rec.explanation,
        {
            "kind": "order",
            "pk": order.pk,
            "label": f"bought {line.product.name}",
            "date": order.placed_at.date().isoformat(),
        },
    ]
    rec.save()
    return order


def test_switching_activity_off_removes_event_reasons_from_the_next_answer(client, shop, alice):
    token = shop.token("cust-alice")
    before = shop.get(client, token=token).json()
    assert before["personalized"] is True
    assert any(why.startswith("Because you viewed") for why in _whys(shop.get(client, token=token)))

    services.kind_set_in_use(customer=alice, kind_name="event", in_use=False)
    after = shop.get(client, token=token)

    assert Recommendation.objects.filter(customer=alice).count() == 2  # no recompute ran
    assert "viewed" not in after.content.decode()
    # Every personal pick cited only events: nothing personal is left to show.
    assert after.json()["personalized"] is False


def test_a_pick_keeps_only_its_reasons_that_are_still_usable(client, shop, alice):
    recs = Recommendation.objects.filter(customer=alice).order_by("rank")
    _add_order_cite(shop, alice, recs[0])
    token = shop.token("cust-alice")
    shop.get(client, token=token)  # cached before the switch

    services.kind_set_in_use(customer=alice, kind_name="event", in_use=False)
    after = shop.get(client, token=token).json()

    assert after["personalized"] is True
    assert [item["product_id"] for item in after["items"]] == [recs[0].product_id]
    assert after["items"][0]["why"].startswith("Because you bought")
    assert "viewed" not in after["items"][0]["why"]


def test_switching_orders_off_removes_order_reasons(client, shop, alice):
    rec = Recommendation.objects.filter(customer=alice).order_by("rank").first()
    _add_order_cite(shop, alice, rec)
    token = shop.token("cust-alice")
    shop.get(client, token=token)

    services.kind_set_in_use(customer=alice, kind_name="order", in_use=False)
    after = shop.get(client, token=token)

    assert "bought" not in after.content.decode()
    assert after.json()["personalized"] is True


def test_switching_personalization_off_gives_the_popular_answer_at_once(client, shop, alice):
    token = shop.token("cust-alice")
    shop.get(client, token=token)

    services.purpose_set_granted(customer=alice, purpose="personalization", granted=False)

    after = shop.get(client, token=token)
    assert after.json()["personalized"] is False
    assert after.content == shop.get(client).content


def test_switching_one_point_off_removes_the_picks_it_alone_explained(client, shop, alice):
    recs = list(Recommendation.objects.filter(customer=alice).order_by("rank"))
    token = shop.token("cust-alice")
    shop.get(client, token=token)

    cited = recs[0].explanation[0]["pk"]
    services.datapoint_set_in_use(customer=alice, kind_name="event", pk=cited, in_use=False)
    after = shop.get(client, token=token).json()

    assert [item["product_id"] for item in after["items"]] == [recs[1].product_id]


def test_switching_the_recommendations_kind_off_hides_them_in_the_widget(client, shop, alice):
    token = shop.token("cust-alice")
    shop.get(client, token=token)

    services.kind_set_in_use(customer=alice, kind_name="recommendation", in_use=False)

    assert shop.get(client, token=token).json()["personalized"] is False
