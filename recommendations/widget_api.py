"""The brand widget's API: `/api/v1/widget/...` (mounted in config/api.py).

Read-only recommendations for a publishable key from the brand's own origins, personal
only for the holder of a valid brand-signed customer token who allows personalization;
everyone else gets the brand's popular items, with no hint why. Events come back only from
such a token holder; anonymous visitors are answered 204 and not tracked.
"""

from __future__ import annotations

from typing import Literal

from django.http import HttpRequest, HttpResponse, JsonResponse
from django.utils.cache import patch_vary_headers
from ninja import Field, Query, Router, Schema

from accounts.models import Customer

from . import widget_auth
from .selectors import widget_items
from .widget_services import widget_events_record

router = Router(auth=None, tags=["widget"])

POPULAR_LABEL = "Popular right now"
PERSONAL_MAX_AGE = 60
ANONYMOUS_MAX_AGE = 120
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


class RecommendationsQuery(Schema):
    key: str = Field(..., max_length=60, description="The brand's publishable key (pk_...).")
    slot: str = Field("home", max_length=40, pattern=r"^[A-Za-z0-9_-]+$")
    n: int = Field(8, ge=1, le=20)
    token: str | None = Field(
        None,
        max_length=widget_auth.MAX_TOKEN_LENGTH,
        description="Customer token, if it cannot be sent as `Authorization: Bearer`.",
    )


class EventsQuery(Schema):
    key: str = Field(..., max_length=60)


class WidgetEventIn(Schema):
    type: Literal["impression", "click", "not_interested"]
    product_ids: list[int] = Field(..., min_length=1, max_length=20)


def _error(status: int, message: str, **headers: str) -> JsonResponse:
    response = JsonResponse({"error": message}, status=status)
    for name, value in headers.items():
        response[name] = value
    response["Cache-Control"] = "no-store"
    return response


def _gate(request: HttpRequest) -> tuple[widget_auth.WidgetClient | None, HttpResponse | None]:
    """Key, then origin, then rate limit. Errors say what to fix, never anything personal."""
    client = widget_auth.request_client(request)
    if client is None:
        return None, _error(403, "Unknown or revoked widget key.")
    if not widget_auth.origin_allowed(client, request.headers.get("origin")):
        return None, _error(403, "This page's origin is not registered for the widget key.")
    retry_after = widget_auth.rate_limit_retry_after(
        key=client.key, ip=widget_auth.client_ip(request)
    )
    if retry_after is not None:
        return None, _error(429, "Too many requests.", **{"Retry-After": str(retry_after)})
    return client, None


def _clean_item(item: dict) -> dict:
    out = {name: item.get(name) for name in ITEM_FIELDS}
    out["product_id"] = int(out["product_id"])
    for name in ITEM_FIELDS[1:]:
        out[name] = "" if out[name] is None else str(out[name])
    return out


@router.get(
    "/recommendations",
    response={200: WidgetRecommendations, 403: WidgetError, 429: WidgetError},
    summary="Recommendations for the widget",
    description=(
        "Publishable key + the page's Origin. With `Authorization: Bearer <customer token>` "
        "(JWT HS256, aud `candor-widget`, iss = brand slug, sub = your customer reference, "
        "lifetime up to 15 minutes) and personalization allowed: that customer's top-N with a "
        "short why. Otherwise the brand's popular items; an invalid token is treated as none."
    ),
)
def recommendations(request: HttpRequest, params: Query[RecommendationsQuery]):
    client, error = _gate(request)
    if error is not None:
        return error
    token = widget_auth.bearer_token(request)
    customer = widget_auth.personalization_holder(client=client, token=token)
    result = widget_items(brand=client.brand, customer=customer, n=params.n)
    personalized = bool(customer is not None and result.get("personalized"))
    payload = {
        "personalized": personalized,
        "label": (result.get("label") or POPULAR_LABEL) if personalized else POPULAR_LABEL,
        "slot": params.slot,
        "items": [_clean_item(item) for item in result.get("items", [])[: params.n]],
    }
    response = JsonResponse(payload)
    if personalized:
        response["Cache-Control"] = f"private, max-age={PERSONAL_MAX_AGE}"
    else:
        response["Cache-Control"] = f"public, max-age={ANONYMOUS_MAX_AGE}"
    patch_vary_headers(response, ("Origin", "Authorization"))
    return response


@router.post(
    "/events",
    response={204: None, 403: WidgetError, 429: WidgetError},
    summary='Impressions, clicks and "don\'t use this" from the widget',
    description=(
        "Recorded in the customer's activity only for a valid customer token whose holder "
        "allows personalization. Anonymous visitors get 204 and nothing is stored."
    ),
)
def events(request: HttpRequest, params: Query[EventsQuery], payload: WidgetEventIn):
    client, error = _gate(request)
    if error is not None:
        return error
    customer = widget_auth.personalization_holder(
        client=client, token=widget_auth.bearer_token(request)
    )
    if customer is not None:
        widget_events_record(
            customer=Customer.objects.get(pk=customer.pk),
            brand=client.brand,
            kind=payload.type,
            product_ids=payload.product_ids,
        )
    response = HttpResponse(status=204)
    response["Cache-Control"] = "no-store"
    return response
