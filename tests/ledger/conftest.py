"""Fixtures of the ingest tests: a brand with a server key, alice as its cust-1, a product."""

import pytest

from accounts.keys import server_key_create
from tests.factories import BrandFactory, CustomerBrandFactory, ProductFactory


@pytest.fixture
def brand(db):
    return BrandFactory(slug="northwind", name="Northwind")


@pytest.fixture
def other_brand(db):
    return BrandFactory(slug="harbor", name="Harbor")


@pytest.fixture
def key(brand):
    return server_key_create(brand=brand)[1]


@pytest.fixture
def other_key(other_brand):
    return server_key_create(brand=other_brand)[1]


@pytest.fixture
def shopper(brand, alice):
    """alice, known to the brand as cust-1."""
    return CustomerBrandFactory(customer=alice, brand=brand, external_ref="cust-1")


@pytest.fixture
def shoe(brand):
    return ProductFactory(brand=brand, external_id="shoe", name="Shoe")
