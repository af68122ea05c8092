"""Who is asking the widget API: the publishable key, its origins, the customer token, limits.

- The publishable key (`pk_...`) names a brand. It is public by design, so it only works
  from the brand's registered origins and only reads (B3).
- The customer token is a short-lived JWT (HS256) the brand's server signs with
  `Brand.token_secret`: `sub` = the brand's reference for the customer, `aud` =
  "candor-widget", `iss` = the brand slug. Anything wrong with it (expired, tampered, another
  brand's, too long-lived, unknown customer) is treated exactly like no token at all, so a
  caller learns nothing about why (G4).
- Rate limits are a fixed-window counter per key and client IP in the shared cache, counted
  locally between reports while the window is less than half full (`rate_limit_retry_after`).

The CORS decision for the widget paths is made here too (`cors_request_allowed`, connected to
django-cors-headers' `check_request_enabled` signal in `RecommendationsConfig.ready`).
"""

from __future__ import annotations

import logging
import re
import threading
import time
import weakref
from dataclasses import dataclass

from django.conf import settings
from django.core.cache import cache, caches
from django.core.cache.backends.redis import RedisCache
from django.core.exceptions import ValidationError
from django.db import connection
from django.http import HttpRequest

from accounts.keys import WIDGET_KEY_SCHEME, origin_normalize
from accounts.models import Brand, Customer, Purpose, WidgetKey
from accounts.profiles import purpose_default
from accounts.tokens import (
    MAX_TOKEN_LENGTH,
    TOKEN_LEEWAY,
    TokenRefused,
    brand_token_verify,
)

log = logging.getLogger(__name__)

WIDGET_PATH = re.compile(r"^/api/v1/widget/")
TOKEN_AUDIENCE = "candor-widget"
# Keys are looked up at most this often per process, so the hot path needs no query.
# Revoking a key or rotating the token secret takes effect within this time.
KEY_MEMO_SECONDS = 10.0
KEY_MEMO_MAX = 2000
RATE_WINDOW = 60  # seconds
# Local counting between reports to the shared counter (see rate_limit_retry_after).
RATE_BATCH_DIVISOR = 20
RATE_BATCH_MAX = 50
RATE_COUNTERS_MAX = 10_000


@dataclass(frozen=True)
class WidgetClient:
    """A valid, unrevoked publishable key and what it stands for."""

    key: str
    brand: Brand
    origins: frozenset[str]
    token_secret: str


_memo: dict[str, tuple[float, WidgetClient | None]] = {}


def widget_key_memo_clear() -> None:
    """Forget memoized keys and local rate counts (tests; an operator revoking a key can
    also call it)."""
    _memo.clear()
    _verified.clear()
    rate_limit_counters_clear()


def _normalized_origins(values) -> frozenset[str]:
    out = set()
    for value in values if isinstance(values, list) else []:
        try:
            out.add(origin_normalize(str(value)))
        except ValidationError:
            continue
    return frozenset(out)


_KEY_SHAPE = re.compile(rf"{WIDGET_KEY_SCHEME}_[A-Za-z0-9_-]+")


def widget_client_for_key(key: str | None) -> WidgetClient | None:
    """The client behind a publishable key, or None for an unknown, malformed or revoked key."""
    if not key or len(key) > 40 or not key.startswith(f"{WIDGET_KEY_SCHEME}_"):
        return None
    now = time.monotonic()
    hit = _memo.get(key)
    if hit is not None and hit[0] > now:
        return hit[1]
    if not _KEY_SHAPE.fullmatch(key):  # a NUL or lone surrogate would fail the query (500)
        return None
    row = WidgetKey.objects.select_related("brand").filter(key=key, revoked_at__isnull=True).first()
    client = None
    if row is not None:
        client = WidgetClient(
            key=row.key,
            brand=row.brand,
            origins=_normalized_origins(row.allowed_origins),
            token_secret=row.brand.token_secret or "",
        )
    if len(_memo) >= KEY_MEMO_MAX:
        _memo.clear()
    _memo[key] = (now + KEY_MEMO_SECONDS, client)
    return client


def origin_allowed(client: WidgetClient, origin: str | None) -> bool:
    if not origin:
        return False
    if origin in client.origins:  # already in normal form (normalizing is idempotent)
        return True
    try:
        return origin_normalize(origin) in client.origins
    except ValidationError:
        return False


def request_client(request: HttpRequest, key: str | None = None) -> WidgetClient | None:
    """The client for the request's key (`key` when the view has read it already), looked
    up once per request."""
    if not hasattr(request, "_widget_client"):
        request._widget_client = widget_client_for_key(
            key if key is not None else request.GET.get("key")
        )
    return request._widget_client


def cors_request_allowed(sender, request: HttpRequest, **kwargs) -> bool:
    """django-cors-headers asks: may this request's Origin read the response?

    Only on the widget API, and only when the Origin is registered for the request's key.
    Returning True for any other path would switch CORS on there, so the path is checked
    first.
    """
    if not WIDGET_PATH.match(request.path_info):
        return False
    client = request_client(request)
    return client is not None and origin_allowed(client, request.headers.get("origin"))


# --- customer token ------------------------------------------------------------------


def bearer_token(request: HttpRequest, query_token: str | None = None) -> str | None:
    """The customer token: `Authorization: Bearer ...`, else the `token` query parameter
    (`query_token`, as the view read it)."""
    header = request.META.get("HTTP_AUTHORIZATION", "")
    scheme, _, value = header.partition(" ")
    if scheme.lower() == "bearer" and value.strip():
        return value.strip()
    return query_token or None


# Tokens already verified in this process: (secret, issuer, token) -> (exp, sub). A token is
# a brand's page-view credential reused for up to 15 minutes, so its signature is checked
# once; expiry is checked on every use, and a rotated secret or renamed brand misses.
_verified: dict[tuple[str, str, str], tuple[float, str]] = {}
VERIFIED_MAX = 10_000


def customer_token_subject(*, client: WidgetClient, token: str | None) -> str | None:
    """The brand's customer reference from a valid token, else None (never says why)."""
    if not token or not client.token_secret or len(token) > MAX_TOKEN_LENGTH:
        return None
    memo_key = (client.token_secret, client.brand.slug, token)
    hit = _verified.get(memo_key)
    if hit is not None:
        if hit[0] + TOKEN_LEEWAY > time.time():
            return hit[1]
        _verified.pop(memo_key, None)
        return None
    verified = _verify(client, token)
    if verified is None:
        return None
    if len(_verified) >= VERIFIED_MAX:
        _verified.clear()
    _verified[memo_key] = verified
    return verified[1]


def _verify(client: WidgetClient, token: str) -> tuple[float, str] | None:
    """(exp, sub) of a valid token, else None (whatever the reason: the widget never says)."""
    try:
        claims = brand_token_verify(
            token=token,
            secret=client.token_secret,
            issuer=client.brand.slug,
            audience=TOKEN_AUDIENCE,
        )
    except TokenRefused:
        return None
    return float(claims["exp"]), claims["sub"]


def holder_lookup(*, client: WidgetClient, ref: str) -> tuple[int | None, bool]:
    """(customer id, personalization allowed) for the brand's customer reference, fresh.

    (None, False) for a reference the brand has not linked. One indexed query (the
    brand-scoped link joined to the current consent row), written as SQL because the ORM's
    query building costs several times the query itself. With no consent row, the brand's
    sensitivity profile decides (banking starts switched off).
    """
    with connection.cursor() as cursor:
        cursor.execute(_HOLDER_SQL, [Purpose.PERSONALIZATION, client.brand.pk, ref])
        row = cursor.fetchone()
    if row is None:
        return None, False
    customer_id, granted = row
    if granted is None:
        granted = purpose_default(client.brand.sensitivity, Purpose.PERSONALIZATION)
    return customer_id, bool(granted)


def personalization_holder(*, client: WidgetClient, token: str | None) -> Customer | None:
    """The token holder if they are the brand's customer and allow personalization, else None.

    Read fresh from the database (`holder_lookup`). The Customer returned carries its id
    only; load it before reading any other field.
    """
    ref = customer_token_subject(client=client, token=token)
    if ref is None:
        return None
    customer_id, granted = holder_lookup(client=client, ref=ref)
    return Customer(pk=customer_id) if customer_id is not None and granted else None


# The default table names of accounts.CustomerBrand and accounts.PurposeConsent (asserted in
# tests/widget/test_tokens.py), as literals: no string is ever built from input.
_HOLDER_SQL = (
    "SELECT cb.customer_id, pc.granted FROM accounts_customerbrand cb "
    "LEFT JOIN accounts_purposeconsent pc "
    "ON pc.customer_id = cb.customer_id AND pc.purpose = %s "
    "WHERE cb.brand_id = %s AND cb.external_ref = %s"
)


# --- rate limit ----------------------------------------------------------------------


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
        count = _shared_add(counter, report)
    except Exception as exc:
        log.warning("widget: rate-limit cache unavailable (%s)", type(exc).__name__)
        return None
    _counter_reported(counter, count)
    return _retry_after(count, window, now)


def _shared_add(counter: str, amount: int) -> int:
    """Add to the shared counter and return its value: INCRBY + EXPIRE in one round trip on
    Redis; `cache.incr` elsewhere (a missing counter is created with `cache.add`)."""
    redis = _redis()
    if redis is not None:
        backend, client = redis
        name = backend.make_key(counter)
        pipe = client.pipeline(transaction=False)
        pipe.incrby(name, amount)
        pipe.expire(name, RATE_WINDOW + 5)
        return int(pipe.execute()[0])
    try:
        return cache.incr(counter, amount)
    except ValueError:
        if cache.add(counter, amount, timeout=RATE_WINDOW + 5):
            return amount
        return cache.incr(counter, amount)


# --- the cache, raw --------------------------------------------------------------------

NOT_FETCHED = object()
# One redis.Redis client per cache backend object (Django keeps one backend per thread).
_redis_clients: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()


def _redis() -> tuple | None:
    """(Django's default cache backend, a redis.Redis client for it) on Redis, else None.

    Django's RedisCache builds a new `redis.Redis` object (and its ~170 response callbacks)
    for every call; the widget's hot path keeps one per backend on the same connection
    pool instead, and reads and writes the very keys Django's cache API does (same prefix,
    version and serializer), so `cache.delete` elsewhere invalidates what is read here.
    """
    backend = caches["default"]
    if not isinstance(backend, RedisCache):
        return None
    client = _redis_clients.get(backend)
    if client is None:
        pool = backend._cache._get_connection_pool(write=True)
        client = _redis_clients[backend] = backend._cache._client(connection_pool=pool)
    return backend, client


def cache_get_raw(cache_key: str) -> bytes | None | object:
    """The raw bytes under a Django cache key on Redis (None: miss), else NOT_FETCHED."""
    redis = _redis()
    if redis is None:
        return NOT_FETCHED
    backend, client = redis
    try:
        return client.get(backend.make_key(cache_key))
    except Exception as exc:
        log.warning("widget: cache unavailable (%s)", type(exc).__name__)
        return NOT_FETCHED


def cache_loads(raw: bytes):
    """Decode raw bytes read by `cache_get_raw`."""
    return caches["default"]._cache._serializer.loads(raw)
