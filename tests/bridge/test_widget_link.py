"""The widget's "Manage my data" for a token holder: a one-time connect link."""

from urllib.parse import parse_qs, urlsplit

from accounts.links import link_token_read
from tests.widget import Shop

LINK_URL = "/api/v1/widget/link"


def _ask(client, shop, token=None, origin=None):
    headers = {"HTTP_ORIGIN": origin or shop.origin}
    if token:
        headers["HTTP_AUTHORIZATION"] = f"Bearer {token}"
    return client.post(f"{LINK_URL}?key={shop.key}", **headers)


def test_a_token_holder_gets_a_connect_link_for_their_own_reference(client, db):
    shop = Shop("acme")

    response = _ask(client, shop, shop.token("acme-42"))

    assert response.status_code == 200
    assert "no-store" in response["Cache-Control"]
    url = urlsplit(response.json()["url"])
    assert url.path == "/link/"
    claims = link_token_read(parse_qs(url.query)["token"][0])
    assert (claims.brand, claims.ref) == (shop.brand, "acme-42")
    assert response["Access-Control-Allow-Origin"] == shop.origin


def test_each_ask_gets_a_fresh_single_use_link(client, db):
    shop = Shop("acme")
    token = shop.token("acme-42")

    first, second = _ask(client, shop, token).json()["url"], _ask(client, shop, token).json()["url"]

    assert first != second


def test_without_a_valid_token_there_is_no_link(client, db):
    shop, other = Shop("acme"), Shop("other", origin="https://other.example")

    assert _ask(client, shop).status_code == 403
    assert _ask(client, shop, other.token("acme-42")).status_code == 403  # another brand's
    assert (
        _ask(client, shop, shop.token("acme-42"), origin="https://evil.example").status_code == 403
    )
