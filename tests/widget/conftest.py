import pytest

from recommendations import widget_api, widget_auth
from tests.widget import Shop


@pytest.fixture(autouse=True)
def _fresh_keys():
    """Per-process memos (keys, popular answers) must not carry over between tests."""
    widget_auth.widget_key_memo_clear()
    widget_api.popular_memo_clear()
    yield
    widget_auth.widget_key_memo_clear()
    widget_api.popular_memo_clear()


@pytest.fixture
def shop(alice):
    """Brand A with alice linked as cust-alice and results computed for her."""
    shop = Shop("shop-a")
    shop.link(alice, "cust-alice")
    shop.recommend(alice)
    return shop
