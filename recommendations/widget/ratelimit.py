"""How often a widget client may ask: a fixed window per publishable key and client IP.

The count lives in the shared cache (`cache.counter_add`), so every serving process sees
the same window; below half the limit each process counts locally and reports in batches
(`rate_limit_retry_after`), so the common request costs no cache round trip.
"""

from __future__ import annotations

import logging
import threading
import time

from django.conf import settings
from django.http import HttpRequest

from . import cache

log = logging.getLogger(__name__)

RATE_WINDOW = 60  # seconds
# Local counting between reports to the shared counter (see rate_limit_retry_after).
RATE_BATCH_DIVISOR = 20
RATE_BATCH_MAX = 50
RATE_COUNTERS_MAX = 10_000


def client_ip(request: HttpRequest) -> str:
    return request.META.get("REMOTE_ADDR", "") or "unknown"


def _window(now: float) -> int:
    return int(now // RATE_WINDOW)


def _retry_after(count: int, window: int, now: float) -> int | None:
    if count > settings.WIDGET_RATE_LIMIT:
        return max(1, int((window + 1) * RATE_WINDOW - now) + 1)
    return None


def rate_batch(limit: int) -> int:
    """How many requests a process may count locally before reporting them."""
    return max(1, min(RATE_BATCH_MAX, limit // RATE_BATCH_DIVISOR))


class _Counter:
    __slots__ = ("pending", "shared")

    def __init__(self) -> None:
        self.pending = 0  # counted here, not yet reported to the shared counter
        self.shared = 0  # the shared counter's value at this process's last report


_counters: dict[str, _Counter] = {}
_counters_lock = threading.Lock()


def rate_limit_counters_clear() -> None:
    with _counters_lock:
        _counters.clear()


def _local_count(counter: str, window: int, limit: int) -> tuple[int | None, int]:
    """Count one request here: (the count to decide on, 0) while it may stay local, else
    (None, how many requests to report to the shared counter now)."""
    with _counters_lock:
        state = _counters.get(counter)
        if state is None:
            if len(_counters) >= RATE_COUNTERS_MAX:
                _counters_forget_old(window)
            state = _counters[counter] = _Counter()
        state.pending += 1
        if state.shared * 2 < limit and state.pending < rate_batch(limit):
            return state.shared + state.pending, 0
        pending, state.pending = state.pending, 0
        return None, pending


def _counters_forget_old(window: int) -> None:
    suffix = f":{window}"
    for name in [n for n in _counters if not n.endswith(suffix)]:
        del _counters[name]
    if len(_counters) >= RATE_COUNTERS_MAX:  # a flood of new clients in one window
        _counters.clear()


def _counter_reported(counter: str, count: int) -> None:
    with _counters_lock:
        state = _counters.get(counter)
        if state is not None:
            state.shared = max(state.shared, count)


def rate_limit_retry_after(*, key: str, ip: str) -> int | None:
    """Count this request; seconds to wait when past the limit, else None.

    A fixed window per key + IP in the shared cache, counted exactly once the window is
    half full. Below that, each process counts locally and reports every `rate_batch`
    requests (INCRBY), so the common case costs no cache round trip: with W processes at
    most W x (batch - 1) requests are not yet in the shared counter, and the batch is at
    most a twentieth of the limit. A limit under 40 is always exact. If the cache is
    unreachable the widget keeps answering (the limit protects us, not the customer).
    """
    limit = settings.WIDGET_RATE_LIMIT
    now = time.time()
    window = _window(now)
    counter = f"widget-rl:{key}:{ip}:{window}"
    count, report = _local_count(counter, window, limit)
    if count is not None:
        return _retry_after(count, window, now)
    try:
        count = cache.counter_add(counter, report, timeout=RATE_WINDOW + 5)
    except Exception as exc:
        log.warning("widget: rate-limit cache unavailable (%s)", type(exc).__name__)
        return None
    _counter_reported(counter, count)
    return _retry_after(count, window, now)
