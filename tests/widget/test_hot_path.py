"""The widget's hot path (P1): what it may keep, for how long, and what it must never keep.

Cache headers (anonymous answers public for a minute, personal ones never stored), the
rate limit counted locally between reports, the popular answer's short memo, verified
tokens remembered only until they expire, and "off means off" / "deleted means gone" on
the very next request.
"""

import time

import pytest
from django.core.cache import cache
from django.urls import reverse

from recommendations import services
from recommendations.models import Recommendation
from recommendations.selectors import widget_cache_key
from recommendations.widget import answers, auth, ratelimit
from tests.factories import PASSWORD
from tests.widget import URL

pytestmark = pytest.mark.django_db


def _counter(shop, ip="127.0.0.1") -> int:
    window = int(time.time() // ratelimit.RATE_WINDOW)
    return cache.get(f"widget-rl:{shop.key}:{ip}:{window}") or 0


# --- cache headers ---------------------------------------------------------------------


def test_it_lets_shared_caches_keep_the_anonymous_answer_for_a_minute(client, shop):
    anonymous = shop.get(client)

    assert anonymous.status_code == 200
    assert anonymous["Cache-Control"] == "public, max-age=60"


def test_it_never_lets_a_personal_answer_be_stored(client, shop):
    personal = shop.get(client, token=shop.token("cust-alice"))

    assert personal.json()["personalized"] is True
    directives = {d.strip() for d in personal["Cache-Control"].split(",")}
    assert {"private", "no-store"} <= directives
    assert "public" not in directives
    assert not any(d.startswith("max-age") and d != "max-age=0" for d in directives)


def test_it_keeps_errors_and_events_uncacheable(client, shop):
    unknown = client.get(URL, {"key": "pk_nope"}, HTTP_ORIGIN=shop.origin)
    event = shop.post_event(client, {"type": "click", "product_ids": [shop.products[0].pk]})

    for response in (unknown, event):
        assert "no-store" in response["Cache-Control"]
        assert "public" not in response["Cache-Control"]


def test_it_keeps_the_anonymous_answer_public_for_a_signed_in_visitor(client, shop, alice):
    client.post(reverse("account_login"), {"login": "alice", "password": PASSWORD})

    response = shop.get(client)

    assert response.json()["personalized"] is False
    assert response["Cache-Control"] == "public, max-age=60"


# --- the rate limit ----------------------------------------------------------------------


def test_it_reports_counts_to_the_shared_counter_in_batches(client, shop, settings):
    settings.WIDGET_RATE_LIMIT = 600
    batch = ratelimit.rate_batch(600)
    assert batch > 1

    for _ in range(batch - 1):
        assert shop.get(client).status_code == 200
    before = _counter(shop)
    shop.get(client)

    assert before == 0
    assert _counter(shop) == batch


def test_it_counts_every_request_exactly_once_the_window_is_half_full(client, shop, settings):
    settings.WIDGET_RATE_LIMIT = 100

    codes = [shop.get(client).status_code for _ in range(100)]
    over = shop.get(client)

    assert codes == [200] * 100
    assert over.status_code == 429
    assert _counter(shop) == 101


def test_it_limits_requests_counted_by_other_processes(client, shop, settings):
    settings.WIDGET_RATE_LIMIT = 100
    batch = ratelimit.rate_batch(100)
    window = int(time.time() // ratelimit.RATE_WINDOW)
    cache.set(f"widget-rl:{shop.key}:127.0.0.1:{window}", 98, timeout=65)  # another worker

    codes = [shop.get(client).status_code for _ in range(batch + 2)]

    assert 429 in codes
    assert codes.index(429) <= batch + 1  # at most (batch - 1) past the limit, never more


def test_it_rate_limits_events_too(client, shop, settings):
    settings.WIDGET_RATE_LIMIT = 2
    body = {"type": "click", "product_ids": [shop.products[0].pk]}

    codes = [shop.post_event(client, body).status_code for _ in range(3)]

    assert codes == [204, 204, 429]


# --- memos: the popular answer, verified tokens --------------------------------------------


def test_it_serves_a_refreshed_popular_list_once_the_memo_expires(client, shop, monkeypatch):
    monkeypatch.setattr(answers, "POPULAR_MEMO_SECONDS", 0.0)  # every entry already old
    before = shop.get(client).json()
    cache.delete(widget_cache_key(shop.brand.pk, None))  # what a retrain's refresh does
    shop.products[0].name = "Renamed"
    shop.products[0].save(update_fields=["name"])

    after = shop.get(client).json()

    assert "Renamed" not in {i["name"] for i in before["items"]}
    assert "Renamed" in {i["name"] for i in after["items"]}


def test_it_reuses_the_popular_answer_within_the_memo(client, shop):
    before = shop.get(client).content
    cache.delete(widget_cache_key(shop.brand.pk, None))
    shop.products[0].name = "Renamed"
    shop.products[0].save(update_fields=["name"])

    assert shop.get(client).content == before


def test_it_keeps_nothing_personal_in_the_popular_memo(client, shop):
    shop.get(client, token=shop.token("cust-alice"))
    shop.get(client)

    for _, body in answers._popular_bodies.values():
        assert b"Because you" not in body
        assert b'"personalized": true' not in body


def test_it_stops_personalizing_the_moment_personalization_is_switched_off(client, shop, alice):
    from transparency.services import purpose_set_granted

    token = shop.token("cust-alice")
    assert shop.get(client, token=token).json()["personalized"] is True

    purpose_set_granted(customer=alice, purpose="personalization", granted=False)

    assert shop.get(client, token=token).content == shop.get(client).content


def test_it_drops_personal_results_the_moment_they_are_purged(client, shop, alice):
    token = shop.token("cust-alice")
    assert shop.get(client, token=token).json()["personalized"] is True

    services.customer_results_purge(customer_id=alice.pk)

    assert not Recommendation.objects.filter(customer=alice).exists()
    assert shop.get(client, token=token).content == shop.get(client).content


def test_it_forgets_a_verified_token_when_it_expires(client, shop):
    token = shop.token("cust-alice")
    assert shop.get(client, token=token).json()["personalized"] is True
    assert auth._verified
    for memo_key, (_, sub) in list(auth._verified.items()):
        auth._verified[memo_key] = (time.time() - auth.TOKEN_LEEWAY - 1, sub)

    assert shop.get(client, token=token).json()["personalized"] is False


def test_it_stops_accepting_a_verified_token_after_the_secret_rotates(client, shop):
    from accounts.keys import brand_token_secret_rotate

    token = shop.token("cust-alice")
    assert shop.get(client, token=token).json()["personalized"] is True

    brand_token_secret_rotate(brand=shop.brand)
    auth._memo.clear()  # the key memo's 10 s, elapsed

    assert shop.get(client, token=token).json()["personalized"] is False


def test_it_gives_a_short_first_request_no_power_over_later_lengths(client, shop):
    first = shop.get(client, n=1)
    later = shop.get(client, n=4)
    personal_first = shop.get(client, token=shop.token("cust-alice"), n=1)
    personal_later = shop.get(client, token=shop.token("cust-alice"), n=2)

    assert len(first.json()["items"]) == 1
    assert len(later.json()["items"]) == 4
    assert len(personal_first.json()["items"]) == 1
    assert len(personal_later.json()["items"]) == 2
