"""Who is asking the widget API: the publishable key, its origins, the customer token, limits.

- The publishable key (`pk_...`) names a brand. It is public by design, so it only works
  from the brand's registered origins and only reads (B3).
- The customer token is a short-lived JWT (HS256) the brand's server signs with
  `Brand.token_secret`: `sub` = the brand's reference for the customer, `aud` =
  "candor-widget", `iss` = the brand slug. Anything wrong with it (expired, tampered, another
  brand's, too long-lived, unknown customer) is treated exactly like no token at all, so a
  caller learns nothing about why (G4).
- Rate limits are a fixed-window counter per key and client IP in the shared cache.

The CORS decision for the widget paths is made here too (`cors_request_allowed`, connected to
django-cors-headers' `check_request_enabled` signal in `RecommendationsConfig.ready`).
"""

from __future__ import annotations

import logging
import re
import time
from dataclasses import dataclass

import jwt
from django.conf import settings
from django.core.cache import cache, caches
from django.core.cache.backends.redis import RedisCache
from django.core.exceptions import ValidationError
from django.db import connection
from django.http import HttpRequest

from accounts.keys import WIDGET_KEY_SCHEME, origin_normalize
from accounts.models import Brand, Customer, Purpose, WidgetKey
from accounts.profiles import purpose_default

log = logging.getLogger(__name__)

WIDGET_PATH = re.compile(r"^/api/v1/widget/")
TOKEN_AUDIENCE = "candor-widget"
TOKEN_MAX_LIFETIME = 15 * 60  # seconds: a longer-lived token is refused
TOKEN_LEEWAY = 10  # seconds of clock skew between the brand's server and ours
MAX_TOKEN_LENGTH = 2048
# Keys are looked up at most this often per process, so the hot path needs no query.
# Revoking a key or rotating the token secret takes effect within this time.
KEY_MEMO_SECONDS = 10.0
KEY_MEMO_MAX = 2000
RATE_WINDOW = 60  # seconds


@dataclass(frozen=True)
class WidgetClient:
    """A valid, unrevoked publishable key and what it stands for."""

    key: str
    brand: Brand
    origins: frozenset[str]
    token_secret: str


_memo: dict[str, tuple[float, WidgetClient | None]] = {}


def widget_key_memo_clear() -> None:
    """Forget memoized keys (tests; an operator revoking a key can also call it)."""
    _memo.clear()


def _normalized_origins(values) -> frozenset[str]:
    out = set()
    for value in values if isinstance(values, list) else []:
        try:
            out.add(origin_normalize(str(value)))
        except ValidationError:
            continue
    return frozenset(out)


def widget_client_for_key(key: str | None) -> WidgetClient | None:
    """The client behind a publishable key, or None for an unknown, malformed or revoked key."""
    if not key or len(key) > 40 or not key.startswith(f"{WIDGET_KEY_SCHEME}_"):
        return None
    now = time.monotonic()
    hit = _memo.get(key)
    if hit is not None and hit[0] > now:
        return hit[1]
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
    try:
        return origin_normalize(origin) in client.origins
    except ValidationError:
        return False


def request_client(request: HttpRequest) -> WidgetClient | None:
    """The key's client for this request, looked up once per request."""
    if not hasattr(request, "_widget_client"):
        request._widget_client = widget_client_for_key(request.GET.get("key"))
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


def bearer_token(request: HttpRequest) -> str | None:
    header = request.headers.get("authorization", "")
    scheme, _, value = header.partition(" ")
    if scheme.lower() == "bearer" and value.strip():
        return value.strip()
    return request.GET.get("token") or None


def customer_token_subject(*, client: WidgetClient, token: str | None) -> str | None:
    """The brand's customer reference from a valid token, else None (never says why)."""
    if not token or not client.token_secret or len(token) > MAX_TOKEN_LENGTH:
        return None
    try:
        claims = jwt.decode(
            token,
            client.token_secret,
            algorithms=["HS256"],
            audience=TOKEN_AUDIENCE,
            issuer=client.brand.slug,
            leeway=TOKEN_LEEWAY,
            options={"require": ["exp", "aud", "iss", "sub"]},
        )
    except jwt.PyJWTError:
        return None
    except Exception:  # a malformed token must never become a server error
        log.info("widget: unreadable customer token")
        return None
    exp = claims.get("exp")
    iat = claims.get("iat")
    if not isinstance(exp, int | float) or exp - time.time() > TOKEN_MAX_LIFETIME + TOKEN_LEEWAY:
        return None
    if iat is not None and (not isinstance(iat, int | float) or exp - iat > TOKEN_MAX_LIFETIME):
        return None
    sub = claims.get("sub")
    if not isinstance(sub, str) or not sub or len(sub) > 100:
        return None
    return sub


def personalization_holder(*, client: WidgetClient, token: str | None) -> Customer | None:
    """The token holder if they are the brand's customer and allow personalization, else None.

    One indexed query (the brand-scoped link joined to the current consent row), written as
    SQL because it runs on every personal widget request and the ORM's query building costs
    several times the query itself. With no consent row, the brand's sensitivity profile
    decides (banking starts switched off). The Customer returned carries its id only; load
    it before reading any other field.
    """
    ref = customer_token_subject(client=client, token=token)
    if ref is None:
        return None
    with connection.cursor() as cursor:
        cursor.execute(_HOLDER_SQL, [Purpose.PERSONALIZATION, client.brand.pk, ref])
        row = cursor.fetchone()
    if row is None:
        return None
    customer_id, granted = row
    if granted is None:
        granted = purpose_default(client.brand.sensitivity, Purpose.PERSONALIZATION)
    return Customer(pk=customer_id) if granted else None


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


def rate_limit_retry_after(*, key: str, ip: str) -> int | None:
    """Count this request; seconds to wait when past the limit, else None.

    Fixed window per key + IP. `cache.incr` is atomic on Redis; on a miss the first
    request of the window creates the counter with `cache.add` (also atomic). If the cache
    is unreachable the widget keeps answering (the limit protects us, not the customer).
    """
    limit = settings.WIDGET_RATE_LIMIT
    now = time.time()
    window = int(now // RATE_WINDOW)
    counter = f"widget-rl:{key}:{ip}:{window}"
    try:
        count = _redis_incr(counter)
        if count is None:
            try:
                count = cache.incr(counter)
            except ValueError:
                created = cache.add(counter, 1, timeout=RATE_WINDOW + 5)
                count = 1 if created else cache.incr(counter)
    except Exception as exc:
        log.warning("widget: rate-limit cache unavailable (%s)", type(exc).__name__)
        return None
    if count > limit:
        return max(1, int((window + 1) * RATE_WINDOW - now) + 1)
    return None


def _redis_incr(counter: str) -> int | None:
    """INCR + EXPIRE in one round trip on Django's Redis cache; None on other backends.

    Django's `cache.incr` on Redis costs two round trips (EXISTS, then INCR) plus an `add`
    for the first request of each window; this runs on every widget request.
    """
    redis_cache = caches["default"]
    if not isinstance(redis_cache, RedisCache):
        return None
    key = redis_cache.make_and_validate_key(counter)
    pipe = redis_cache._cache.get_client(key, write=True).pipeline(transaction=False)
    pipe.incr(key)
    pipe.expire(key, RATE_WINDOW + 5)
    return int(pipe.execute()[0])
