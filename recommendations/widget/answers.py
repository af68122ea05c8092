"""The widget's answer as the bytes sent: the popular list and a token holder's own.

Both are read from the results the recommendation layer cached (`selectors.widget_items`
fills it on a miss) and serialized once: the popular answer kept a few seconds per process,
the personal one kept in the pub/sub-invalidated memo (`memo`) so that "off" and "deleted"
act on the very next request.
"""

from __future__ import annotations

import json
import time
from typing import Any

from accounts.models import Brand, Customer
from recommendations.selectors import widget_cache_key, widget_items

from . import cache, memo
from .auth import WidgetClient, holder_lookup

POPULAR_LABEL = "Popular right now"
# Results are fetched (and cached by the selector) at the largest n the API allows, then
# cut to the caller's n, so a first caller asking for 2 cannot shorten everyone's list.
MAX_ITEMS = 20
ITEM_FIELDS = ("product_id", "external_id", "name", "category", "price", "image_url", "why")


def _clean_item(item: dict[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {name: item.get(name) for name in ITEM_FIELDS}
    out["product_id"] = int(out["product_id"])
    for name in ITEM_FIELDS[1:]:
        out[name] = "" if out[name] is None else str(out[name])
    return out


def _body(payload: dict[str, Any], *, personalized: bool, slot: str, n: int) -> bytes:
    return json.dumps(
        {
            "personalized": personalized,
            "label": (payload.get("label") or POPULAR_LABEL) if personalized else POPULAR_LABEL,
            "slot": slot,
            "items": [_clean_item(item) for item in payload.get("items", [])[:n]],
        }
    ).encode()


# The popular answer, serialized, per (widget key, slot, n) for a few seconds: nothing
# personal is ever kept here, and it is served `public, max-age=60` anyway, so any shared
# cache may keep it longer than this. A refresh (retrain) shows within POPULAR_MEMO_SECONDS.
_popular_bodies: dict[tuple[str, str, int], tuple[float, bytes]] = {}
POPULAR_MEMO_SECONDS = 5.0
POPULAR_MEMO_MAX = 512


def popular_memo_clear() -> None:
    _popular_bodies.clear()


def popular_body(client: WidgetClient, *, slot: str, n: int) -> bytes:
    """The brand's popular answer as bytes (the same for everyone)."""
    memo_key = (client.key, slot, n)
    now = time.monotonic()
    hit = _popular_bodies.get(memo_key)
    if hit is not None and hit[0] > now:
        return hit[1]
    raw = cache.cache_get_raw(widget_cache_key(client.brand.pk, None))
    if isinstance(raw, bytes):
        payload = cache.cache_loads(raw)
    else:  # a miss (the selector fills the cache) or not Redis
        payload = widget_items(brand=client.brand, customer=None, n=MAX_ITEMS)
    body = _body(payload, personalized=False, slot=slot, n=n)
    if len(_popular_bodies) >= POPULAR_MEMO_MAX:
        _popular_bodies.clear()
    _popular_bodies[memo_key] = (now + POPULAR_MEMO_SECONDS, body)
    return body


def _personal_payload(brand: Brand, customer: Customer) -> dict[str, Any]:
    """The holder's cached answer (consent already checked)."""
    raw = cache.cache_get_raw(widget_cache_key(brand.pk, customer.pk))
    if isinstance(raw, bytes):
        payload: dict[str, Any] = cache.cache_loads(raw)
        return payload
    return widget_items(brand=brand, customer=customer, n=MAX_ITEMS)


# Serialized personal answers kept per memo entry, one per (slot, n) asked for.
PERSONAL_BODIES_MAX = 16


def _personal_entry(client: WidgetClient, ref: str) -> memo.Entry | None:
    """The memo entry for the brand's customer reference, filled fresh on a miss; None for
    a reference the brand has not linked (never memoized)."""
    current = memo.memo()
    entry, generation = (
        current.lookup(client.brand.pk, ref) if current is not None else (memo.MISS, None)
    )
    if entry is not memo.MISS:
        return entry
    customer_id, granted = holder_lookup(client=client, ref=ref)
    if customer_id is None:
        return None
    payload: dict[str, Any] | None = None
    if granted:
        payload = _personal_payload(client.brand, Customer(pk=customer_id))
        if not payload.get("personalized"):
            payload = None
    if current is None:
        return [0.0, customer_id, payload, {}]
    return current.store(client.brand.pk, ref, generation, customer_id, payload)


def personal_body(client: WidgetClient, ref: str, *, slot: str, n: int) -> bytes | None:
    """The token holder's answer as bytes, or None when they get the popular one.

    From this process's memo (`memo`: dropped the moment consent, results or the account
    change) when it has the answer, else read fresh: the link and consent (one query) and
    the cached results (one cache read), then memoized.
    """
    entry = _personal_entry(client, ref)
    if entry is None:
        return None
    payload, bodies = entry[2], entry[3]
    if payload is None:
        return None
    body: bytes | None = bodies.get((slot, n))
    if body is None:
        body = _body(payload, personalized=True, slot=slot, n=n)
        if len(bodies) < PERSONAL_BODIES_MAX:
            bodies[(slot, n)] = body
    return body
