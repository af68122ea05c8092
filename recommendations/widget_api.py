"""The brand widget's API: `/api/v1/widget/...` (mounted in config/api.py).

Read-only recommendations for a publishable key from the brand's own origins, personal
only for the holder of a valid brand-signed customer token who allows personalization;
everyone else gets the brand's popular items, with no hint why. Events come back only from
such a token holder; anonymous visitors are answered 204 and not tracked.
"""

from __future__ import annotations

import contextlib
import json
import time
from typing import Literal
from urllib.parse import parse_qsl, urlencode

import pydantic
from django.conf import settings
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.urls import reverse
from ninja import Field, Query, Router, Schema
from ninja.errors import ValidationError
from pydantic import BaseModel

from accounts.links import link_token_mint
from accounts.models import Customer
from config.middleware import CORS_CHECKED_ORIGIN
from ledger.models import Product
from ledger.validation import integer_for

from . import widget_auth, widget_memo
from .selectors import widget_cache_key, widget_items
from .widget_services import widget_events_record

router = Router(auth=None, tags=["widget"])

POPULAR_LABEL = "Popular right now"
# The popular list may sit in shared caches for a minute (config.middleware lets this
# through); a personal answer is never stored anywhere, so "off" and "deleted" act at once.
ANONYMOUS_CACHE_CONTROL = "public, max-age=60"
PERSONAL_CACHE_CONTROL = "private, no-store"
# Results are fetched (and cached by the selector) at the largest n the API allows, then
# cut to the caller's n, so a first caller asking for 2 cannot shorten everyone's list.
MAX_ITEMS = 20
ITEM_FIELDS = ("product_id", "external_id", "name", "category", "price", "image_url", "why")


class WidgetError(Schema):
    error: str


class WidgetItem(Schema):
    product_id: int
    external_id: str
    name: str
    category: str
    price: str
    image_url: str
    why: str


class WidgetRecommendations(Schema):
    personalized: bool
    label: str
    slot: str
    items: list[WidgetItem]


# Keys are "pk_" + URL-safe base64 (accounts.keys): anything else (a NUL, which PostgreSQL
# text cannot hold, a lone surrogate) is refused before it reaches a lookup.
KEY_PATTERN = r"^[A-Za-z0-9_-]+$"


class RecommendationsQuery(BaseModel):
    key: str = Field(
        ..., max_length=60, pattern=KEY_PATTERN, description="The brand's publishable key (pk_...)."
    )
    slot: str = Field("home", max_length=40, pattern=r"^[A-Za-z0-9_-]+$")
    n: int = Field(8, ge=1, le=MAX_ITEMS)
    token: str | None = Field(
        None,
        max_length=widget_auth.MAX_TOKEN_LENGTH,
        description="Customer token, if it cannot be sent as `Authorization: Bearer`.",
    )


def _query_parameters(model: type[BaseModel]) -> list[dict]:
    """The OpenAPI parameters of a query model, as ninja writes them for `Query[model]`."""
    schema = model.model_json_schema()
    required = set(schema.get("required", ()))
    parameters = []
    for name, field in schema["properties"].items():
        if field.get("default", ...) is None:
            field = {k: v for k, v in field.items() if k != "default"}  # as ninja writes it
        parameter = {"in": "query", "name": name, "required": name in required, "schema": field}
        if "description" in field:
            parameter["description"] = field["description"]
        parameters.append(parameter)
    return parameters


def _query(request: HttpRequest, model: type[BaseModel]):
    """The query string validated by `model`; a 422 naming the field like any ninja query.

    Read with the standard library's parser rather than Django's QueryDict (a third of the
    cost, P1), with Django's own rules: the last of repeated names wins, blank values kept,
    at most DATA_UPLOAD_MAX_NUMBER_FIELDS fields. A query string that is not plain ASCII
    (a misbehaving user agent) or has too many fields goes through `request.GET`, which
    decodes it or refuses it (400) exactly as Django does everywhere else.
    """
    raw = request.META.get("QUERY_STRING", "")
    data = None
    if raw.isascii():
        # Too many fields: left to request.GET, which raises Django's TooManyFieldsSent.
        with contextlib.suppress(ValueError):
            data = dict(
                parse_qsl(
                    raw,
                    keep_blank_values=True,
                    max_num_fields=settings.DATA_UPLOAD_MAX_NUMBER_FIELDS,
                )
            )
    if data is None:
        data = request.GET.dict()
    try:
        return model.model_validate(data)
    except pydantic.ValidationError as exc:
        errors = []
        for error in exc.errors(include_url=False, include_input=False):
            error["loc"] = ("query", *error["loc"])
            if isinstance(error.get("ctx", {}).get("error"), Exception):
                error["ctx"]["error"] = str(error["ctx"]["error"])
            errors.append(error)
        raise ValidationError(errors) from None


class EventsQuery(Schema):
    key: str = Field(..., max_length=60, pattern=KEY_PATTERN)


# Ids within the column (ledger.validation): a bigger one is a mistake, answered 422.
ProductId = integer_for(Product, "id", ge=1)


class WidgetEventIn(Schema):
    type: Literal["impression", "click", "not_interested"]
    product_ids: list[ProductId] = Field(..., min_length=1, max_length=20)


def _error(status: int, message: str, **headers: str) -> JsonResponse:
    response = JsonResponse({"error": message}, status=status)
    for name, value in headers.items():
        response[name] = value
    response["Cache-Control"] = "no-store"
    return response


def _gate(
    request: HttpRequest, key: str
) -> tuple[widget_auth.WidgetClient | None, HttpResponse | None]:
    """Key, then origin. Errors say what to fix, never anything personal."""
    client = widget_auth.request_client(request, key)
    if client is None:
        return None, _error(403, "Unknown or revoked widget key.")
    if not widget_auth.origin_allowed(client, request.META.get("HTTP_ORIGIN")):
        return None, _error(403, "This page's origin is not registered for the widget key.")
    return client, None


def _rate_limited(retry_after: int | None) -> HttpResponse | None:
    if retry_after is None:
        return None
    return _error(429, "Too many requests.", **{"Retry-After": str(retry_after)})


def _clean_item(item: dict) -> dict:
    out = {name: item.get(name) for name in ITEM_FIELDS}
    out["product_id"] = int(out["product_id"])
    for name in ITEM_FIELDS[1:]:
        out[name] = "" if out[name] is None else str(out[name])
    return out


def _body(payload: dict, *, personalized: bool, slot: str, n: int) -> bytes:
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


def _popular_body(client: widget_auth.WidgetClient, *, slot: str, n: int) -> bytes:
    memo_key = (client.key, slot, n)
    now = time.monotonic()
    hit = _popular_bodies.get(memo_key)
    if hit is not None and hit[0] > now:
        return hit[1]
    raw = widget_auth.cache_get_raw(widget_cache_key(client.brand.pk, None))
    if isinstance(raw, bytes):
        payload = widget_auth.cache_loads(raw)
    else:  # a miss (the selector fills the cache) or not Redis
        payload = widget_items(brand=client.brand, customer=None, n=MAX_ITEMS)
    body = _body(payload, personalized=False, slot=slot, n=n)
    if len(_popular_bodies) >= POPULAR_MEMO_MAX:
        _popular_bodies.clear()
    _popular_bodies[memo_key] = (now + POPULAR_MEMO_SECONDS, body)
    return body


def _personal_payload(brand, customer) -> dict:
    """The holder's cached answer (consent already checked)."""
    raw = widget_auth.cache_get_raw(widget_cache_key(brand.pk, customer.pk))
    if isinstance(raw, bytes):
        return widget_auth.cache_loads(raw)
    return widget_items(brand=brand, customer=customer, n=MAX_ITEMS)


# Serialized personal answers kept per memo entry, one per (slot, n) asked for.
PERSONAL_BODIES_MAX = 16


def _personal_body(client: widget_auth.WidgetClient, ref: str, *, slot: str, n: int):
    """The token holder's answer as bytes, or None when they get the popular one.

    From this process's memo (widget_memo: dropped the moment consent, results or the
    account change) when it has the answer, else read fresh: the link and consent (one
    query) and the cached results (one cache read), then memoized. An unknown reference is
    never memoized.
    """
    memo = widget_memo.memo()
    entry, generation = (
        memo.lookup(client.brand.pk, ref) if memo is not None else (widget_memo.MISS, None)
    )
    if entry is widget_memo.MISS:
        customer_id, granted = widget_auth.holder_lookup(client=client, ref=ref)
        if customer_id is None:
            return None
        payload = None
        if granted:
            payload = _personal_payload(client.brand, Customer(pk=customer_id))
            if not payload.get("personalized"):
                payload = None
        if memo is None:
            entry = [0.0, customer_id, payload, {}]
        else:
            entry = memo.store(client.brand.pk, ref, generation, customer_id, payload)
    payload, bodies = entry[2], entry[3]
    if payload is None:
        return None
    body = bodies.get((slot, n))
    if body is None:
        body = _body(payload, personalized=True, slot=slot, n=n)
        if len(bodies) < PERSONAL_BODIES_MAX:
            bodies[(slot, n)] = body
    return body


def _note_gpc(request: HttpRequest, client: widget_auth.WidgetClient, ref: str | None) -> None:
    """The token holder's browser sends Global Privacy Control: name them on the request;
    transparency's middleware records and honours it after the response. Anonymous
    visitors have no record, so nothing is noted or written for them."""
    if ref is not None and request.headers.get("Sec-GPC", "").strip() == "1":
        customer_id, _ = widget_auth.holder_lookup(client=client, ref=ref)
        if customer_id is not None:
            request.gpc_customer_id = customer_id  # type: ignore[attr-defined]


def _json(body: bytes, cache_control: str, origin: str) -> HttpResponse:
    """The answer for a checked `origin` (config.middleware.CorsMiddleware allows it)."""
    response = HttpResponse(body, content_type="application/json")
    response["Cache-Control"] = cache_control
    response["Vary"] = "Origin, Authorization"  # a new response: nothing to merge with
    setattr(response, CORS_CHECKED_ORIGIN, origin)
    return response


@router.get(
    "/recommendations",
    response={200: WidgetRecommendations, 403: WidgetError, 422: WidgetError, 429: WidgetError},
    # The query is read by the view (_query); documented here exactly as `Query[...]` would.
    openapi_extra={"parameters": _query_parameters(RecommendationsQuery)},
    summary="Recommendations for the widget",
    description=(
        "Publishable key + the page's Origin. With `Authorization: Bearer <customer token>` "
        "(JWT HS256, aud `candor-widget`, iss = brand slug, sub = your customer reference, "
        "lifetime up to 15 minutes) and personalization allowed: that customer's top-N with a "
        "short why. Otherwise the brand's popular items; an invalid token is treated as none."
    ),
)
def recommendations(request: HttpRequest):
    """The hot path (P1): no ORM, no response validation, the answer from the cache.

    Anonymous: the rate limit counted locally between reports (widget_auth) and the popular
    answer's bytes from a short per-process memo, so usually no round trip at all. Token
    holder: the signature checked once per token, then the answer from a per-process memo
    that consent changes, toggles, recomputes, retrains, purges and erasure invalidate at
    once through Redis pub/sub (widget_memo); on a miss, one indexed query (link +
    consent) and one cache read. A holder without personal results gets the same bytes as
    anyone.
    """
    params = _query(request, RecommendationsQuery)
    client, error = _gate(request, params.key)
    if error is not None:
        return error
    retry_after = widget_auth.rate_limit_retry_after(
        key=client.key, ip=widget_auth.client_ip(request)
    )
    if (limited := _rate_limited(retry_after)) is not None:
        return limited
    token = widget_auth.bearer_token(request, params.token)
    ref = widget_auth.customer_token_subject(client=client, token=token) if token else None
    origin = request.META["HTTP_ORIGIN"]  # _gate checked it
    _note_gpc(request, client, ref)
    if ref is not None:
        body = _personal_body(client, ref, slot=params.slot, n=params.n)
        if body is not None:
            return _json(body, PERSONAL_CACHE_CONTROL, origin)
    body = _popular_body(client, slot=params.slot, n=params.n)
    return _json(body, ANONYMOUS_CACHE_CONTROL, origin)


@router.post(
    "/events",
    response={204: None, 403: WidgetError, 422: WidgetError, 429: WidgetError},
    summary='Impressions, clicks and "don\'t use this" from the widget',
    description=(
        "Recorded in the customer's activity only for a valid customer token whose holder "
        "allows personalization. Anonymous visitors get 204 and nothing is stored."
    ),
)
def events(request: HttpRequest, params: Query[EventsQuery], payload: WidgetEventIn):
    client, error = _gate(request, params.key)
    if error is not None:
        return error
    retry_after = widget_auth.rate_limit_retry_after(
        key=client.key, ip=widget_auth.client_ip(request)
    )
    if (limited := _rate_limited(retry_after)) is not None:
        return limited
    token = widget_auth.bearer_token(request, request.GET.get("token"))
    if token:
        _note_gpc(request, client, widget_auth.customer_token_subject(client=client, token=token))
    customer = widget_auth.personalization_holder(client=client, token=token)
    if customer is not None:
        widget_events_record(
            customer=customer,
            brand=client.brand,
            kind=payload.type,
            product_ids=payload.product_ids,
        )
    response = HttpResponse(status=204)
    response["Cache-Control"] = "no-store"
    return response


class WidgetLink(Schema):
    url: str


@router.post(
    "/link",
    response={200: WidgetLink, 403: WidgetError, 429: WidgetError},
    summary='A one-time link for the token holder\'s "Manage my data"',
    description=(
        "With a valid customer token: a connect link (single use, a few minutes long) that "
        "takes the holder to their data in Candor, connecting your record to their account "
        'on the way if it is not yet. The widget asks for it when a card\'s "Why?" opens.'
    ),
)
def manage_link(request: HttpRequest, params: Query[EventsQuery]):
    client, error = _gate(request, params.key)
    if error is not None:
        return error
    retry_after = widget_auth.rate_limit_retry_after(
        key=client.key, ip=widget_auth.client_ip(request)
    )
    if (limited := _rate_limited(retry_after)) is not None:
        return limited
    ref = widget_auth.customer_token_subject(
        client=client, token=widget_auth.bearer_token(request, None)
    )
    if ref is None:
        return _error(403, "A valid customer token is required.")
    _note_gpc(request, client, ref)
    token = link_token_mint(brand=client.brand, ref=ref)
    url = request.build_absolute_uri(reverse("link_open")) + "?" + urlencode({"token": token})
    response = JsonResponse({"url": url})
    response["Cache-Control"] = "no-store"
    return response
