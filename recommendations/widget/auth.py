"""Who is asking the widget API: the publishable key, its origins, the customer token.

- The publishable key (`pk_...`) names a brand. It is public by design, so it only works
  from the brand's registered origins and only reads (B3).
- The customer token is a short-lived JWT (HS256) the brand's server signs with
  `Brand.token_secret`: `sub` = the brand's reference for the customer, `aud` =
  "candor-widget", `iss` = the brand slug. Anything wrong with it (expired, tampered, another
  brand's, too long-lived, unknown customer) is treated exactly like no token at all, so a
  caller learns nothing about why (G4).
- How often they may ask is `ratelimit`'s business.

The CORS decision for the widget paths is made here too (`cors_request_allowed`, connected to
django-cors-headers' `check_request_enabled` signal in `RecommendationsConfig.ready`).
"""

from __future__ import annotations

import functools
import re
import time
from dataclasses import dataclass
from typing import Any, cast

from django.core.exceptions import ValidationError
from django.db import connection
from django.http import HttpRequest

from accounts.keys import WIDGET_KEY_SCHEME, origin_normalize
from accounts.models import Brand, Customer, CustomerBrand, Purpose, PurposeConsent, WidgetKey
from accounts.profiles import purpose_default
from accounts.tokens import (
    MAX_TOKEN_LENGTH,
    TOKEN_LEEWAY,
    TokenRefused,
    brand_token_verify,
)

from .ratelimit import rate_limit_counters_clear

WIDGET_PATH = re.compile(r"^/api/v1/widget/")
TOKEN_AUDIENCE = "candor-widget"
# Keys are looked up at most this often per process, so the hot path needs no query.
# Revoking a key or rotating the token secret takes effect within this time.
KEY_MEMO_SECONDS = 10.0
KEY_MEMO_MAX = 2000


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


def _normalized_origins(values: object) -> frozenset[str]:
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
    # Kept in the request's own __dict__: HttpRequest declares no such attribute.
    memo = request.__dict__
    if "_widget_client" not in memo:
        memo["_widget_client"] = widget_client_for_key(
            key if key is not None else request.GET.get("key")
        )
    return cast(WidgetClient | None, memo["_widget_client"])


def cors_request_allowed(sender: object, request: HttpRequest, **kwargs: Any) -> bool:
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
        cursor.execute(holder_sql(), [Purpose.PERSONALIZATION, client.brand.pk, ref])
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


@functools.cache
def holder_sql() -> str:
    """`holder_lookup`'s query, its table and column names read from the models' meta and
    quoted (built once per process; no string is ever built from input)."""
    quote = connection.ops.quote_name
    link, consent = CustomerBrand._meta, PurposeConsent._meta

    def column(meta: Any, field: str) -> str:
        return quote(meta.get_field(field).column)

    return (
        f"SELECT cb.{column(link, 'customer')}, pc.{column(consent, 'granted')} "  # noqa: S608
        f"FROM {quote(link.db_table)} cb LEFT JOIN {quote(consent.db_table)} pc "
        f"ON pc.{column(consent, 'customer')} = cb.{column(link, 'customer')} "
        f"AND pc.{column(consent, 'purpose')} = %s "
        f"WHERE cb.{column(link, 'brand')} = %s AND cb.{column(link, 'external_ref')} = %s"
    )
