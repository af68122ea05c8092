"""Off means off from the next read on the Recommendations page, with the worker down; and
every personal pick shown carries a reason of the customer's own and a score for it."""

import pytest
from django.urls import reverse

from recommendations import selectors, services
from recommendations.models import ContactHourInference, InferredInterest, Recommendation
from tests.recommendations.conftest import rate
from transparency import services as choices


@pytest.fixture
def trained(shop, crowd, alice, alice_history, monkeypatch):
    brand, products = shop
    for product in products["Gear"]:  # some activity for the contact hour, too
        rate(alice, brand, product, None, kind="view", days_ago=2)
    services.train_brand(brand_id=brand.pk)
    # From here on the worker is down: nothing queued (recompute, retrain) ever runs.
    monkeypatch.setattr("accounts.outbox.publish", lambda *a, **kw: False)
    return brand


def _page(client) -> str:
    return client.get(reverse("dashboard:recommendations")).content.decode()


def test_switching_activity_off_leaves_no_reason_built_from_events(trained, alice, alice_client):
    before = _page(alice_client)
    assert "rated Footwear" in before
    assert InferredInterest.objects.filter(customer=alice).exists()
    assert ContactHourInference.objects.filter(customer=alice).exists()

    choices.kind_set_in_use(customer=alice, kind_name="event", in_use=False)
    after = _page(alice_client)

    assert Recommendation.objects.filter(customer=alice, is_popular=False).exists()  # stale
    assert "rated" not in after and "viewed" not in after
    assert 'href="/me/data/event/' not in after
    # Interests and the contact hour were learned from the activity: not shown until
    # recomputed without it.
    assert "Footwear" not in after.split('id="rec-interests"')[1]
    assert "around" not in after.split('id="rec-hours"')[1]


def test_switching_personalization_off_shows_no_personal_pick_at_once(trained, alice, alice_client):
    choices.purpose_set_granted(customer=alice, purpose="personalization", granted=False)

    page = selectors.recommendations_page(user=alice.user)

    assert page["groups"] == [] and page["interests"] == []


def test_a_point_switched_off_is_never_a_reason(trained, alice, alice_history):
    cited = {c["pk"] for r in Recommendation.objects.filter(customer=alice) for c in r.explanation}
    for pk in cited:
        choices.datapoint_set_in_use(customer=alice, kind_name="event", pk=pk, in_use=False)

    page = selectors.recommendations_page(user=alice.user)

    assert all(item["cites"] == [] for g in page["groups"] for item in g["items"])
    assert all(item["rec"].is_popular for g in page["groups"] for item in g["items"])


def test_a_pick_without_reason_or_with_a_negative_score_is_never_shown(
    trained, alice, alice_client
):
    brand = trained
    recs = list(Recommendation.objects.filter(customer=alice, is_popular=False).order_by("rank"))
    Recommendation.objects.filter(pk=recs[0].pk).update(explanation=[])
    Recommendation.objects.filter(pk=recs[1].pk).update(score=-0.5)

    page = selectors.recommendations_page(user=alice.user)
    shown = {item["rec"].pk for g in page["groups"] for item in g["items"]}
    widget = selectors.widget_items(brand=brand, customer=alice, n=20)

    assert recs[0].pk not in shown and recs[1].pk not in shown
    assert recs[2].pk in shown
    names = {item["name"] for item in widget["items"]}
    assert recs[0].product.name not in names and recs[1].product.name not in names
    assert all(item["why"] for item in widget["items"])


def test_training_writes_personal_picks_only_with_a_reason_and_a_score_for_it(
    shop, crowd, alice, alice_history
):
    brand, _ = shop
    services.train_brand(brand_id=brand.pk)

    personal = Recommendation.objects.filter(brand=brand, is_popular=False)
    assert personal.exists()
    assert not personal.filter(score__lt=0).exists()
    assert all(r.explanation for r in personal)
    for customer_id in set(personal.values_list("customer_id", flat=True)):
        ranks = sorted(personal.filter(customer_id=customer_id).values_list("rank", flat=True))
        assert ranks == list(range(1, len(ranks) + 1))
