import pytest

from tests.bridge import Brand, Receiver


@pytest.fixture
def northwind(db):
    return Brand()


@pytest.fixture
def harbor(db):
    return Brand(slug="harbor", name="Harbor Goods")


@pytest.fixture
def receiver():
    server = Receiver()
    yield server
    server.stop()
