"""'Popular right now' never rests on one person: an item enters it only when at least
POPULAR_MIN_CUSTOMERS distinct customers interacted with it (default 5)."""

from recommendations import selectors, services
from tests.factories import BrandFactory, CustomerFactory, EventFactory, ProductFactory


def _brand_with(counts: dict[str, int]):
    """A brand whose product `name` was viewed by `counts[name]` distinct customers."""
    brand = BrandFactory(slug="kshop")
    people = [CustomerFactory(user__password=None) for _ in range(max(counts.values()))]
    products = {}
    for name, n in counts.items():
        products[name] = product = ProductFactory(brand=brand, name=name)
        for person in people[:n]:
            EventFactory(customer=person, brand=brand, product=product, kind="view")
            EventFactory(customer=person, brand=brand, product=product, kind="click")
    return brand, products


def test_an_item_four_customers_touched_is_not_popular_five_is(db):
    brand, products = _brand_with({"five": 5, "four": 4, "one": 1})

    run = services.train_brand(brand_id=brand.pk)
    anonymous = selectors.widget_items(brand=brand, n=8)

    assert products["five"].pk in run.metrics["popular"]
    assert products["four"].pk not in run.metrics["popular"]
    assert products["one"].pk not in run.metrics["popular"]
    assert [item["name"] for item in anonymous["items"]] == ["five"]


def test_the_threshold_is_a_setting(db, settings):
    settings.POPULAR_MIN_CUSTOMERS = 4
    brand, products = _brand_with({"five": 5, "four": 4, "one": 1})

    run = services.train_brand(brand_id=brand.pk)

    assert run.metrics["popular"] == [products["five"].pk, products["four"].pk]
