import pytest

from recommendations.widget import answers, auth
from tests.widget import Shop


@pytest.fixture(autouse=True)
def _fresh_keys():
    """Per-process memos (keys, popular answers) must not carry over between tests."""
    auth.widget_key_memo_clear()
    answers.popular_memo_clear()
    yield
    auth.widget_key_memo_clear()
    answers.popular_memo_clear()


@pytest.fixture
def shop(alice):
    """Brand A with alice linked as cust-alice and results computed for her."""
    shop = Shop("shop-a")
    shop.link(alice, "cust-alice")
    shop.recommend(alice)
    return shop
