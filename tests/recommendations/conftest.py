"""A small shop with two tastes, for training tests (the owner is alice, bob the other)."""

from datetime import timedelta

import pytest
from django.utils import timezone

from tests.factories import BrandFactory, CustomerFactory, EventFactory, ProductFactory

CATEGORIES = {"Footwear": 6, "Outerwear": 6, "Gear": 4}


@pytest.fixture
def shop(db):
    brand = BrandFactory(slug="shop", name="Shop")
    products = {}
    for category, count in CATEGORIES.items():
        products[category] = [
            ProductFactory(brand=brand, name=f"{category} {n}", category=category)
            for n in range(count)
        ]
    return brand, products


def rate(customer, brand, product, value: float, days_ago: int = 1, kind: str = "rating"):
    return EventFactory(
        customer=customer,
        brand=brand,
        product=product,
        kind=kind,
        value=value if kind == "rating" else None,
        occurred_at=timezone.now() - timedelta(days=days_ago),
    )


@pytest.fixture
def crowd(shop):
    """Sixteen other customers: half love footwear, half love outerwear; all like some gear."""
    brand, products = shop
    people = []
    for n in range(16):
        person = CustomerFactory(user__password=None)  # no hashing: fast
        loves, meh = ("Footwear", "Outerwear") if n % 2 == 0 else ("Outerwear", "Footwear")
        for i, product in enumerate(products[loves]):
            if (i + n) % 5:
                rate(person, brand, product, 5.0 if i % 2 else 4.0, days_ago=n + i)
        for i, product in enumerate(products[meh][:3]):
            rate(person, brand, product, 2.0, days_ago=n + i)
        rate(person, brand, products["Gear"][n % 4], 4.0)
        people.append(person)
    return people


@pytest.fixture
def alice_history(shop, alice):
    """Alice likes footwear: ratings on four shoes (two of them bought as plain events)."""
    brand, products = shop
    return [
        rate(alice, brand, products["Footwear"][0], 5.0, days_ago=3),
        rate(alice, brand, products["Footwear"][1], 5.0, days_ago=4),
        rate(alice, brand, products["Footwear"][2], 4.0, days_ago=5),
        rate(alice, brand, products["Outerwear"][0], 2.0, days_ago=6),
    ]


@pytest.fixture
def bob_history(shop, bob):
    brand, products = shop
    return [
        rate(bob, brand, products["Outerwear"][1], 5.0, days_ago=2),
        rate(bob, brand, products["Outerwear"][2], 5.0, days_ago=2),
        rate(bob, brand, products["Footwear"][3], 5.0, days_ago=2),
        rate(bob, brand, products["Gear"][0], 5.0, days_ago=2),
    ]
