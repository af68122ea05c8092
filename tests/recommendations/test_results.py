"""Stored results: the widget's cached items, purge, and the impact preview."""

from django.core.cache import cache

from accounts.models import PurposeConsent
from recommendations import selectors, services
from recommendations.models import ContactHourInference, InferredInterest, Recommendation


def test_the_widget_gives_personal_items_with_why_for_a_known_customer(
    shop, crowd, alice, alice_history
):
    brand, _ = shop
    services.train_brand(brand_id=brand.pk)

    payload = selectors.widget_items(brand=brand, customer=alice, n=5)

    assert payload["personalized"] is True
    assert len(payload["items"]) == 5
    assert set(payload["items"][0]) == {
        "product_id", "external_id", "name", "category", "price", "image_url", "why",
    }  # fmt: skip
    assert any(
        item["why"] and item["why"].startswith("Because you rated") for item in payload["items"]
    )


def test_the_widget_is_popular_for_anonymous_visitors_and_withdrawn_consent(
    shop, crowd, alice, alice_history
):
    brand, _ = shop
    services.train_brand(brand_id=brand.pk)
    assert selectors.widget_items(brand=brand, customer=alice)["personalized"]

    anonymous = selectors.widget_items(brand=brand)
    PurposeConsent.objects.create(customer=alice, purpose="personalization", granted=False)
    withdrawn = selectors.widget_items(brand=brand, customer=alice)

    assert anonymous["personalized"] is False and anonymous["label"] == "Popular right now"
    assert withdrawn["personalized"] is False
    assert withdrawn["label"] == selectors.POPULAR_LABEL
    assert all(item["why"] is None for item in withdrawn["items"])


def test_the_widget_is_served_from_the_cache(
    shop, crowd, alice, alice_history, django_assert_max_num_queries
):
    brand, _ = shop
    services.train_brand(brand_id=brand.pk)
    selectors.widget_items(brand=brand, customer=alice)

    with django_assert_max_num_queries(1):  # the consent check only
        selectors.widget_items(brand=brand, customer=alice)


def test_purge_deletes_results_and_cache_and_leaves_others_alone(
    shop, crowd, alice, bob, alice_history, bob_history
):
    brand, _ = shop
    services.train_brand(brand_id=brand.pk)
    selectors.widget_items(brand=brand, customer=alice)
    bobs_before = Recommendation.objects.filter(customer=bob).count()

    deleted = services.customer_results_purge(customer_id=alice.pk)

    assert deleted > 0
    for model in (Recommendation, InferredInterest, ContactHourInference):
        assert not model.objects.filter(customer=alice).exists()
    assert cache.get(selectors.widget_cache_key(brand.pk, alice.pk)) is None
    assert Recommendation.objects.filter(customer=bob).count() == bobs_before


def test_recommendations_citing_names_the_products_a_point_shaped(
    shop, crowd, alice, bob, alice_history
):
    brand, _ = shop
    services.train_brand(brand_id=brand.pk)
    rec = next(r for r in Recommendation.objects.filter(customer=alice) if r.explanation)
    cite = rec.explanation[0]

    found = selectors.recommendations_citing(
        customer_id=alice.pk, kind=cite["kind"], pks=[cite["pk"]]
    )

    assert rec.product.name in {f["product_name"] for f in found}
    assert (
        selectors.recommendations_citing(customer_id=bob.pk, kind="event", pks=[cite["pk"]]) == []
    )


def test_contact_hours_are_learned_only_with_the_contact_purpose(shop, crowd, alice):
    from tests.recommendations.conftest import rate

    brand, products = shop
    for product in products["Gear"]:
        rate(alice, brand, product, 4.0, days_ago=1)
        rate(alice, brand, product, None, kind="view", days_ago=2)
    services.train_brand(brand_id=brand.pk)
    assert ContactHourInference.objects.filter(customer=alice).exists()

    PurposeConsent.objects.create(customer=alice, purpose="contact", granted=False)
    services.train_brand(brand_id=brand.pk)

    assert not ContactHourInference.objects.filter(customer=alice).exists()
