"""Customer tokens: only a valid, short-lived token signed by the key's brand personalizes.

Every invalid token gets exactly the anonymous answer, byte for byte, so the caller learns
nothing about why (G4).
"""

import base64
import json
import time

import jwt
import pytest

from recommendations.widget import auth
from tests.widget import Shop, mint

pytestmark = pytest.mark.django_db


@pytest.fixture
def anonymous_body(client, shop):
    response = shop.get(client)
    assert response.status_code == 200
    assert response.json()["personalized"] is False
    return response.content


def _tamper(token: str) -> str:
    """Change the payload's subject and keep the old signature."""
    head, body, sig = token.split(".")
    claims = json.loads(base64.urlsafe_b64decode(body + "=" * (-len(body) % 4)))
    claims["sub"] = "cust-bob"
    forged = base64.urlsafe_b64encode(json.dumps(claims).encode()).rstrip(b"=").decode()
    return f"{head}.{forged}.{sig}"


def test_it_personalizes_for_a_valid_token(client, shop):
    response = shop.get(client, token=shop.token("cust-alice"))

    assert response.status_code == 200
    body = response.json()
    assert body["personalized"] is True
    assert [i["product_id"] for i in body["items"]] == [p.pk for p in shop.products[:2]]
    assert body["items"][0]["why"].startswith("Because you viewed")


def test_it_accepts_the_token_as_a_query_parameter(client, shop):
    response = client.get(
        "/api/v1/widget/recommendations",
        {"key": shop.key, "token": shop.token("cust-alice")},
        HTTP_ORIGIN=shop.origin,
    )

    assert response.json()["personalized"] is True


def test_it_treats_an_expired_token_as_anonymous(client, shop, anonymous_body):
    now = int(time.time())
    token = shop.token("cust-alice", iat=now - 1200, exp=now - 600)

    response = shop.get(client, token=token)

    assert response.status_code == 200
    assert response.content == anonymous_body


def test_it_treats_a_token_signed_with_another_brands_secret_as_anonymous(
    client, shop, anonymous_body, alice
):
    other = Shop("shop-b", origin="https://shop-b.example")
    other.link(alice, "cust-alice")
    token_b = other.token("cust-alice")  # brand B's secret and iss
    token_b_secret_a_iss = mint(other.secret, sub="cust-alice", iss=shop.brand.slug)
    token_a_secret_b_iss = mint(shop.secret, sub="cust-alice", iss=other.brand.slug)

    for token in (token_b, token_b_secret_a_iss, token_a_secret_b_iss):
        response = shop.get(client, token=token)
        assert response.status_code == 200
        assert response.content == anonymous_body


def test_it_treats_a_tampered_token_as_anonymous(client, shop, anonymous_body, bob):
    shop.link(bob, "cust-bob")
    shop.recommend(bob, shop.products[2:4])
    token = _tamper(shop.token("cust-alice"))

    response = shop.get(client, token=token)

    assert response.status_code == 200
    assert response.content == anonymous_body


def test_it_treats_a_token_without_audience_as_anonymous(client, shop, anonymous_body):
    wrong_aud = shop.token("cust-alice", aud="someone-else")
    no_aud = shop.token("cust-alice", aud=None)

    for token in (no_aud, wrong_aud):
        assert shop.get(client, token=token).content == anonymous_body


def test_it_refuses_tokens_that_live_longer_than_15_minutes(client, shop, anonymous_body):
    now = int(time.time())
    long_lived = shop.token("cust-alice", lifetime=3600)
    no_iat_far_exp = shop.token("cust-alice", iat=None, exp=now + 3600)
    no_exp = shop.token("cust-alice", exp=None)

    for token in (long_lived, no_iat_far_exp, no_exp):
        assert shop.get(client, token=token).content == anonymous_body
    assert shop.get(client, token=shop.token("cust-alice", lifetime=900)).json()["personalized"]


def test_it_refuses_unsigned_and_garbage_tokens(client, shop, anonymous_body):
    unsigned = jwt.encode(
        {
            "sub": "cust-alice",
            "aud": "candor-widget",
            "iss": shop.brand.slug,
            "exp": int(time.time()) + 60,
        },
        key=None,
        algorithm="none",
    )
    for token in (unsigned, "garbage", "a.b.c", "x" * 5000):
        response = shop.get(client, token=token)
        assert response.status_code == 200
        assert response.content == anonymous_body


def test_it_treats_an_unknown_customer_like_no_token(client, shop, anonymous_body):
    response = shop.get(client, token=shop.token("nobody-we-know"))

    assert response.status_code == 200
    assert response.content == anonymous_body


def test_it_gives_no_personal_results_when_the_brand_has_no_token_secret(client, shop):
    token = shop.token("cust-alice")
    shop.brand.token_secret = ""
    shop.brand.save(update_fields=["token_secret"])
    auth.widget_key_memo_clear()

    assert shop.get(client, token=token).json()["personalized"] is False


def test_it_reads_the_tables_its_hot_path_query_names():
    from accounts.models import CustomerBrand, PurposeConsent

    assert CustomerBrand._meta.db_table in auth.holder_sql()
    assert PurposeConsent._meta.db_table in auth.holder_sql()
