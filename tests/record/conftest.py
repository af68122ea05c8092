import pytest

from accounts.keys import server_key_create
from accounts.models import CustomerBrand
from tests.factories import BrandFactory


@pytest.fixture
def northwind(db):
    return BrandFactory(slug="northwind", name="Northwind")


@pytest.fixture
def key(northwind):
    return server_key_create(brand=northwind)[1]


@pytest.fixture
def shopper(alice, northwind):
    """alice, known to Northwind as nw-1."""
    CustomerBrand.objects.create(customer=alice, brand=northwind, external_ref="nw-1")
    return alice
