"""Extraction: only allowed interactions reach the model (invariant 2, quality E1)."""

import numpy as np
import pytest

from accounts.models import KindSetting, PurposeConsent, Sensitivity
from recommendations import selectors, services
from recommendations.ml import signals as ml_signals
from recommendations.models import Recommendation
from tests.factories import OrderFactory, OrderLineFactory
from tests.recommendations.conftest import rate
from transparency.services import datapoint_set_in_use


def pairs(data) -> set[tuple[int, int]]:
    return set(zip(data.users.tolist(), data.items.tolist(), strict=True))


def cited(customer) -> set[tuple[str, int]]:
    return {
        (c["kind"], c["pk"])
        for rec in Recommendation.objects.filter(customer=customer)
        for c in rec.explanation
    }


def test_it_maps_ratings_purchases_and_implicit_signals(shop, alice):
    brand, products = shop
    rate(alice, brand, products["Gear"][0], 2.0)
    rate(alice, brand, products["Gear"][1], None, kind="view", days_ago=0)
    order = OrderFactory(customer=alice, brand=brand)
    OrderLineFactory(order=order, product=products["Gear"][2])

    data = selectors.training_data(brand_id=brand.pk)
    ratings = dict(zip(data.items.tolist(), data.ratings.tolist(), strict=True))

    assert ratings[products["Gear"][0].pk] == 2.0
    assert ratings[products["Gear"][1].pk] == pytest.approx(
        ml_signals.IMPLICIT_WEIGHTS["view"], 0.01
    )
    assert ratings[products["Gear"][2].pk] == pytest.approx(5.0, 0.01)
    (point,) = data.points[(alice.pk, products["Gear"][2].pk)]
    assert (point.kind, point.pk, point.verb) == ("order", order.pk, "bought")


def test_it_leaves_out_gift_orders(shop, alice):
    brand, products = shop
    gift = OrderFactory(customer=alice, brand=brand, is_gift=True)
    OrderLineFactory(order=gift, product=products["Gear"][3])

    data = selectors.training_data(brand_id=brand.pk)

    assert (alice.pk, products["Gear"][3].pk) not in pairs(data)


def test_a_switched_off_point_leaves_the_training_set_and_the_explanation(
    shop, crowd, alice, alice_history
):
    brand, _ = shop
    services.train_brand(brand_id=brand.pk)
    loved = alice_history[0]
    assert ("event", loved.pk) in cited(alice)

    datapoint_set_in_use(customer=alice, kind_name="event", pk=loved.pk, in_use=False)
    services.train_brand(brand_id=brand.pk)

    assert (alice.pk, loved.product_id) not in pairs(selectors.training_data(brand_id=brand.pk))
    assert ("event", loved.pk) not in cited(alice)
    assert cited(alice), "the other, still allowed points keep explaining"


def test_a_switched_off_kind_leaves_the_training_set_and_the_explanation(
    shop, crowd, alice, alice_history
):
    brand, _ = shop
    services.train_brand(brand_id=brand.pk)
    assert cited(alice)

    KindSetting.objects.create(customer=alice, data_kind="event", in_use=False)
    services.train_brand(brand_id=brand.pk)

    data = selectors.training_data(brand_id=brand.pk)
    assert alice.pk not in set(data.users.tolist())
    assert cited(alice) == set()
    assert len(data.users) > 0


def test_withdrawn_personalization_leaves_the_training_set_and_the_results(
    shop, crowd, alice, alice_history
):
    brand, _ = shop
    services.train_brand(brand_id=brand.pk)
    assert Recommendation.objects.filter(customer=alice).exists()

    PurposeConsent.objects.create(customer=alice, purpose="personalization", granted=False)
    services.train_brand(brand_id=brand.pk)

    data = selectors.training_data(brand_id=brand.pk)
    assert alice.pk not in set(data.users.tolist())
    assert not Recommendation.objects.filter(customer=alice).exists()
    assert cited(alice) == set()


def test_a_banking_brand_leaves_out_customers_who_never_opted_in(db, alice, bob):
    from tests.factories import BrandFactory, ProductFactory

    bank = BrandFactory(slug="bank", sensitivity=Sensitivity.BANKING)
    product = ProductFactory(brand=bank)
    rate(alice, bank, product, 5.0)
    rate(bob, bank, product, 4.0)
    PurposeConsent.objects.create(customer=bob, purpose="personalization", granted=True)

    data = selectors.training_data(brand_id=bank.pk)

    assert set(data.users.tolist()) == {bob.pk}


def test_extraction_is_one_query_per_table(
    shop, crowd, alice, alice_history, django_assert_max_num_queries
):
    brand, _ = shop
    with django_assert_max_num_queries(6):
        data = selectors.training_data(brand_id=brand.pk)
    assert len(data.ratings) > 50
    assert np.all((data.ratings >= 1) & (data.ratings <= 5))


def test_explanations_are_the_cited_pairs_own_points_newest_first_as_json(
    shop, alice, bob, alice_history, bob_history
):
    import json

    brand, products = shop
    shoe, other_shoe = products["Footwear"][0].pk, products["Footwear"][1].pk
    rate(alice, brand, products["Footwear"][0], None, kind="view", days_ago=1)  # newer point
    data = selectors.training_data(brand_id=brand.pk)

    def entries(customer, product):
        return [
            {
                "kind": p.kind,
                "pk": p.pk,
                "product_id": product,
                "label": selectors.label_words(p.verb, data.products[product][0], p.value),
                "date": p.when.date().isoformat(),
            }
            for p in [
                q for q in data.points[(customer, product)] if selectors.point_is_positive(q)
            ][: selectors.MAX_POINTS_PER_PAIR]
        ]

    cites = [(alice.pk, shoe), (alice.pk, other_shoe), (alice.pk, bob_history[0].product_id)]
    got = data.explanations(
        [0, 0, 2], [c for c, _ in cites], [p for _, p in cites], 4
    )  # explanation 1 cites nothing; alice never touched bob's first product

    want = [entries(alice.pk, shoe) + entries(alice.pk, other_shoe), [], [], []]
    assert [json.loads(text) for text in got] == want
    compact = json.dumps(want[0], ensure_ascii=False, separators=(",", ":"))
    assert got[0] == compact, "exactly what json.dumps stores, without spaces"
    assert [e["label"].split()[0] for e in want[0]] == ["viewed", "rated", "rated"]
    assert {e["pk"] for e in want[0]} <= {p.pk for p in data.points[(alice.pk, shoe)]} | {
        e.pk for e in alice_history
    }
