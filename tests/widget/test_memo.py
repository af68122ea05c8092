"""The widget's per-process memo of personal answers (recommendations/widget/memo.py).

With Redis (CI), the memo answers repeat requests without a query and drops an answer the
moment an invalidation arrives, from this process or any other, and reads fresh when its
subscription is lost. Without Redis (the embedded default) there is no memo: every request
reads fresh. The consent, purge and toggle tests in test_api.py / test_hot_path.py run in
both configurations.
"""

import time

import pytest
import redis
from django.db import connection
from django.test.utils import CaptureQueriesContext

from accounts.models import PurposeConsent
from recommendations.widget import memo as widget_memo
from tests.conftest import wait_for

requires_redis = pytest.mark.redis


def _publish_from_elsewhere(message: str) -> None:
    """What another process's `widget_memo.publish` sends, over a connection of its own."""
    client = redis.Redis.from_url(widget_memo._location())
    try:
        client.publish(widget_memo.channel(), message)
    finally:
        client.close()


def _entry(shop, ref="cust-alice"):
    return widget_memo.memo().entries.get((shop.brand.pk, ref))


def test_without_redis_every_personal_request_reads_fresh(client, shop, settings):
    settings.CACHES = {
        "default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"},
    }
    assert widget_memo.memo() is None
    token = shop.token("cust-alice")
    shop.get(client, token=token)

    with CaptureQueriesContext(connection) as queries:
        assert shop.get(client, token=token).json()["personalized"] is True

    assert any("accounts_customerbrand" in q["sql"] for q in queries.captured_queries)


@requires_redis
def test_it_answers_a_repeat_request_without_a_query(client, shop, django_assert_num_queries):
    token = shop.token("cust-alice")
    first = shop.get(client, token=token)

    with django_assert_num_queries(0):
        again = shop.get(client, token=token)

    assert again.content == first.content
    assert again.json()["personalized"] is True


def _consent(alice, granted: bool, *, silently: bool = False) -> None:
    rows = PurposeConsent.objects.filter(customer=alice, purpose="personalization")
    if silently:  # a queryset update: no service, no save signal, nothing announced
        assert rows.update(granted=granted) == 1
    else:
        PurposeConsent.objects.update_or_create(
            customer=alice, purpose="personalization", defaults={"granted": granted}
        )


@requires_redis
def test_it_drops_an_answer_when_another_process_announces_a_change(client, shop, alice):
    _consent(alice, True)
    token = shop.token("cust-alice")
    assert shop.get(client, token=token).json()["personalized"] is True
    _consent(alice, False, silently=True)
    # The memo is really what answers: a write nobody announces is not seen...
    assert shop.get(client, token=token).json()["personalized"] is True

    # ...until a process announces it: then the very next request reads fresh.
    _publish_from_elsewhere(f"c{alice.pk}")
    assert wait_for(lambda: _entry(shop) is None, timeout=5)

    assert shop.get(client, token=token).content == shop.get(client).content


@requires_redis
def test_it_drops_the_whole_brand_after_a_retrain(client, shop, alice):
    token = shop.token("cust-alice")
    shop.get(client, token=token)
    assert _entry(shop) is not None

    _publish_from_elsewhere(f"b{shop.brand.pk}")

    assert wait_for(lambda: _entry(shop) is None, timeout=5)


@requires_redis
def test_an_idle_process_lets_go_of_an_erased_customer_without_a_request(client, shop, alice):
    shop.get(client, token=shop.token("cust-alice"))
    assert _entry(shop) is not None

    _publish_from_elsewhere(f"c{alice.pk}")

    # No request in between: the background drain hears it.
    assert wait_for(lambda: _entry(shop) is None, timeout=5)


@requires_redis
def test_it_reads_fresh_once_its_subscription_is_lost(client, shop, alice, monkeypatch):
    _consent(alice, True)
    token = shop.token("cust-alice")
    shop.get(client, token=token)
    memo = widget_memo.memo()
    host, port = memo.sock.getsockname()[:2]
    _consent(alice, False, silently=True)

    # Redis drops the subscriber (a restart, a network blip): messages may have been lost.
    killer = redis.Redis.from_url(widget_memo._location())
    assert killer.client_kill_filter(_type="pubsub", addr=f"{host}:{port}") == 1
    killer.close()
    assert wait_for(lambda: memo.pubsub is None, timeout=5)

    assert shop.get(client, token=token).content == shop.get(client).content
    assert memo.entries == {}

    # It subscribes again (after RETRY_SECONDS) and memoizes again.
    monkeypatch.setattr(widget_memo, "RETRY_SECONDS", 0.0)
    memo.retry_at = 0.0
    shop.get(client, token=token)
    assert memo.pubsub is not None


@requires_redis
def test_a_fill_read_before_an_invalidation_is_never_kept(client, shop, alice):
    memo = widget_memo.memo()
    entry, generation = memo.lookup(shop.brand.pk, "cust-alice")
    assert entry is widget_memo.MISS

    widget_memo.publish(customer_ids=[alice.pk])  # arrives between the read and the fill
    memo.store(shop.brand.pk, "cust-alice", generation, alice.pk, {"personalized": True})

    assert _entry(shop) is None


@requires_redis
def test_it_never_memoizes_an_unknown_customer(client, shop):
    shop.get(client, token=shop.token("not-linked-yet"))

    assert _entry(shop, "not-linked-yet") is None


@requires_redis
def test_a_saved_consent_row_drops_the_answer_without_a_service(client, shop, alice):
    token = shop.token("cust-alice")
    assert shop.get(client, token=token).json()["personalized"] is True

    PurposeConsent.objects.update_or_create(
        customer=alice, purpose="personalization", defaults={"granted": False}
    )

    assert shop.get(client, token=token).content == shop.get(client).content


def test_unreadable_messages_drop_everything(shop, alice):
    memo = widget_memo._Memo()
    memo.entries[(shop.brand.pk, "x")] = [time.monotonic() + 30, alice.pk + 1, None, {}]

    memo.apply(b"c12 ???")

    assert memo.entries == {}
