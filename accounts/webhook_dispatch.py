"""Webhook delivery: claim due rows, post them, record what happened (accounts.webhooks
says how delivery works; this is `webhooks_dispatch` and its steps).

Claimed with a conditional UPDATE and posted with bounded timeouts, never following a
redirect; a row is marked delivered only after a 2xx; per endpoint and customer in order;
failures back off exponentially until WEBHOOK_RETRY_WINDOW, then the row is failed.
"""

from __future__ import annotations

import ipaddress
import logging
import secrets
import socket
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import timedelta
from urllib.parse import urlsplit

import httpx
from django.conf import settings
from django.core.cache import cache
from django.db import connection, transaction
from django.db.models import F, Min, Value
from django.db.models.functions import Coalesce
from django.utils import timezone
from standardwebhooks.webhooks import Webhook

from .models import DeliveryState, WebhookDelivery

log = logging.getLogger(__name__)

# Cleared by a dispatch before it claims; set by webhooks._ask_for_dispatch.
DISPATCH_ASKED = "webhooks:dispatch-asked"
USER_AGENT = "Candor-Webhooks/1"
# Bounded in every phase: a hanging receiver costs at most these per attempt.
TIMEOUT = httpx.Timeout(connect=3.0, read=5.0, write=5.0, pool=3.0)
ATTEMPT_BUDGET_SECONDS = 16
BATCH = 50
DELIVERY_THREADS = 4  # queues posted side by side (each in order); more only thrashed 2 cores
# A claimed batch is another dispatcher's to retry only after this long (a crashed worker).
LEASE = timedelta(seconds=BATCH * ATTEMPT_BUDGET_SECONDS + 60)
MAX_DELAY = timedelta(hours=6)
RUN_BUDGET_SECONDS = 120.0


@dataclass
class DispatchResult:
    delivered: int = 0
    retrying: int = 0
    failed: int = 0
    released: int = 0


@dataclass
class _Outcome:
    ok: bool
    status_code: int | None = None
    error: str = ""
    # The endpoint itself is unreachable: skip its other rows in this run.
    endpoint_down: bool = False


@dataclass
class _Run:
    client: httpx.Client
    result: DispatchResult = field(default_factory=DispatchResult)
    down: set[int] = field(default_factory=set)  # unreachable in this run (pool threads add)
    resolved: dict[str, bool] = field(default_factory=dict)
    delivered: dict[int | None, list[int]] = field(default_factory=dict)


def retry_delay(attempts: int) -> timedelta:
    """Exponential: base, 2x base, 4x base ... capped at MAX_DELAY."""
    base = settings.WEBHOOK_RETRY_BASE_SECONDS
    return min(timedelta(seconds=base * 2 ** max(attempts - 1, 0)), MAX_DELAY)


def webhooks_dispatch(*, limit: int = 10_000) -> DispatchResult:
    """Deliver what is due, batch by batch, until nothing is left, `limit` rows were
    tried, or the run's time budget is spent (the next run takes the rest)."""
    try:
        cache.delete(DISPATCH_ASKED)  # before claiming: a commit after this asks again
    except Exception:
        log.warning("webhooks: cache unavailable")
    _leases_expire()
    started = time.monotonic()
    run = _Run(client=_client())
    tried = 0
    try:
        with ThreadPoolExecutor(max_workers=DELIVERY_THREADS) as pool:
            while tried < limit and time.monotonic() - started < RUN_BUDGET_SECONDS:
                batch = _claim(min(BATCH, limit - tried), skip_endpoints=run.down)
                if not batch:
                    break
                tried += len(batch)
                _send(run, pool, batch)
    finally:
        run.client.close()
    return run.result


def _client() -> httpx.Client:
    return httpx.Client(
        timeout=TIMEOUT,
        follow_redirects=False,
        trust_env=False,
        headers={"user-agent": USER_AGENT},
    )


def _leases_expire() -> int:
    """Rows claimed by a dispatcher that died mid-batch go back to waiting."""
    return WebhookDelivery.objects.filter(
        state=DeliveryState.SENDING, lease_until__lt=timezone.now()
    ).update(state=DeliveryState.PENDING, claim="", lease_until=None)


def _lockable(queryset):
    if connection.features.has_select_for_update_skip_locked:
        return queryset.select_for_update(skip_locked=True, of=("self",))
    return queryset  # SQLite: one writer at a time anyway


@transaction.atomic
def _claim(limit: int, skip_endpoints: set[int]) -> list[WebhookDelivery]:
    """Claim up to `limit` due rows that are each the head of their endpoint + customer
    queue (or follow their queue's head within this same batch), leaving out endpoints
    found unreachable earlier in this run."""
    now = timezone.now()
    due = _lockable(
        WebhookDelivery.objects.filter(
            state=DeliveryState.PENDING,
            next_attempt_at__lte=now,
            endpoint__disabled_at__isnull=True,
        )
        .exclude(endpoint_id__in=skip_endpoints)
        .order_by("pk")
    )
    rows = list(due.values_list("pk", "endpoint_id", "order_key")[:limit])
    if not rows:
        return []
    ids = [pk for pk, _, _ in rows]
    earliest_blocker = {
        (e, k): first
        for e, k, first in WebhookDelivery.objects.filter(
            endpoint_id__in={e for _, e, _ in rows},
            order_key__in={k for _, _, k in rows},
            state__in=[DeliveryState.PENDING, DeliveryState.SENDING],
        )
        .exclude(pk__in=ids)
        .values("endpoint_id", "order_key")
        .annotate(first=Min("pk"))
        .values_list("endpoint_id", "order_key", "first")
    }
    kept = [pk for pk, e, k in rows if pk < earliest_blocker.get((e, k), pk + 1)]
    if not kept:
        return []
    claim = secrets.token_hex(8)
    WebhookDelivery.objects.filter(pk__in=kept, state=DeliveryState.PENDING).update(
        state=DeliveryState.SENDING, claim=claim, lease_until=now + LEASE
    )
    return list(
        WebhookDelivery.objects.filter(claim=claim, state=DeliveryState.SENDING)
        .select_related("endpoint")
        .order_by("pk")
    )


def _send(run: _Run, pool: ThreadPoolExecutor, batch: list[WebhookDelivery]) -> None:
    """Post a claimed batch: queues (endpoint + customer) side by side, each queue's rows
    one after the other; then record every outcome from this thread."""
    queues: dict[tuple[int, str], list[WebhookDelivery]] = {}
    for delivery in batch:
        queues.setdefault((delivery.endpoint_id, delivery.order_key), []).append(delivery)
    released = []
    for results in pool.map(lambda queue: _post_queue(run, queue), queues.values()):
        for delivery, outcome, attempted_at in results:
            if outcome is None:
                released.append(delivery.pk)
            elif outcome.ok:
                run.delivered.setdefault(outcome.status_code, []).append(delivery.pk)
            else:
                _record_failure(run, delivery, outcome, attempted_at)
    if released:  # held back behind a failure in their queue or endpoint: next run
        WebhookDelivery.objects.filter(pk__in=released, state=DeliveryState.SENDING).update(
            state=DeliveryState.PENDING, claim="", lease_until=None
        )
        run.result.released += len(released)
    _flush_delivered(run)


def _post_queue(run: _Run, queue: list[WebhookDelivery]) -> list[tuple]:
    """(delivery, outcome or None when not tried, when) for one queue, in order, stopping
    at the first failure. Runs in a pool thread: HTTP only, no database."""
    results: list[tuple] = []
    failed = False
    for delivery in queue:
        if failed or delivery.endpoint_id in run.down:
            results.append((delivery, None, None))
            continue
        attempted_at = timezone.now()
        outcome = _post(run, delivery)
        results.append((delivery, outcome, attempted_at))
        if not outcome.ok:
            failed = True
            if outcome.endpoint_down:
                run.down.add(delivery.endpoint_id)
    return results


def _post(run: _Run, delivery: WebhookDelivery) -> _Outcome:
    endpoint = delivery.endpoint
    if not _destination_allowed(run, endpoint.url):
        return _Outcome(ok=False, error="destination not allowed (private network)")
    sent_at = timezone.now()
    signature = Webhook(endpoint.secret).sign(
        msg_id=delivery.event_id, timestamp=sent_at, data=delivery.payload
    )
    headers = {
        "content-type": "application/json",
        "webhook-id": delivery.event_id,
        "webhook-timestamp": str(int(sent_at.timestamp())),
        "webhook-signature": signature,
    }
    try:
        with run.client.stream(
            "POST", endpoint.url, content=delivery.payload.encode(), headers=headers
        ) as response:
            code = response.status_code  # the body is never read: nothing of it is kept
    except httpx.TimeoutException:
        return _Outcome(ok=False, error="timed out", endpoint_down=True)
    except httpx.HTTPError as exc:
        error = f"connection failed ({type(exc).__name__})"
        return _Outcome(ok=False, error=error, endpoint_down=True)
    if 200 <= code < 300:
        return _Outcome(ok=True, status_code=code)
    if 300 <= code < 400:
        return _Outcome(ok=False, status_code=code, error="redirect not followed")
    return _Outcome(ok=False, status_code=code, error=f"HTTP {code}")


def _destination_allowed(run: _Run, url: str) -> bool:
    """Unless WEBHOOK_ALLOW_PRIVATE_NETWORKS, refuse hosts that resolve to loopback,
    private, link-local or otherwise reserved addresses (a brand's URL must not reach
    Candor's own network)."""
    if settings.WEBHOOK_ALLOW_PRIVATE_NETWORKS:
        return True
    host = urlsplit(url).hostname or ""
    if host not in run.resolved:
        try:
            infos = socket.getaddrinfo(host, None, proto=socket.IPPROTO_TCP)
            addresses = {ipaddress.ip_address(info[4][0]) for info in infos}
        except (OSError, ValueError):
            addresses = set()
        run.resolved[host] = bool(addresses) and all(a.is_global for a in addresses)
    return run.resolved[host]


def _record_failure(run: _Run, delivery: WebhookDelivery, outcome: _Outcome, now) -> None:
    attempts = delivery.attempts + 1
    give_up_at = delivery.created_at + timedelta(seconds=settings.WEBHOOK_RETRY_WINDOW)
    next_at = now + retry_delay(attempts)
    common = {
        "attempts": attempts,
        "last_status_code": outcome.status_code,
        "last_error": outcome.error[:200],
        "last_attempt_at": now,
        "first_attempt_at": delivery.first_attempt_at or now,
        "claim": "",
        "lease_until": None,
    }
    rows = WebhookDelivery.objects.filter(pk=delivery.pk, state=DeliveryState.SENDING)
    if next_at > give_up_at:
        rows.update(state=DeliveryState.FAILED, payload="", failed_at=now, **common)
        run.result.failed += 1
        log.warning("webhooks: gave up on %s", delivery.event_id)
    else:
        rows.update(state=DeliveryState.PENDING, next_attempt_at=next_at, **common)
        run.result.retrying += 1


def _flush_delivered(run: _Run) -> None:
    """Mark the batch's successes in one statement per status code (their times are the
    batch's: within a fraction of a second of each attempt)."""
    now = timezone.now()
    for code, pks in run.delivered.items():
        WebhookDelivery.objects.filter(pk__in=pks, state=DeliveryState.SENDING).update(
            state=DeliveryState.DELIVERED,
            payload="",
            delivered_at=now,
            last_attempt_at=now,
            first_attempt_at=Coalesce(F("first_attempt_at"), Value(now)),
            attempts=F("attempts") + 1,
            last_status_code=code,
            last_error="",
            claim="",
            lease_until=None,
        )
        run.result.delivered += len(pks)
    run.delivered.clear()
