"""The brand widget's API: `/api/v1/widget/...` (mounted in config/api.py).

Read-only recommendations for a publishable key from the brand's own origins, personal
only for the holder of a valid brand-signed customer token who allows personalization;
everyone else gets the brand's popular items, with no hint why. Events come back only from
such a token holder; anonymous visitors are answered 204 and not tracked.
"""

from __future__ import annotations

import contextlib
from typing import TYPE_CHECKING, Any, Literal, TypeVar
from urllib.parse import parse_qsl, urlencode

import pydantic
from django.conf import settings
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.urls import reverse
from ninja import Field, Query, Router, Schema
from ninja.errors import ValidationError
from pydantic import BaseModel

from accounts.links import link_token_mint
from accounts.tokens import MAX_TOKEN_LENGTH
from config.middleware import CORS_CHECKED_ORIGIN
from ledger.models import Product
from ledger.validation import integer_for

from . import answers, auth
from .events import widget_events_record
from .ratelimit import client_ip, rate_limit_retry_after

router = Router(auth=None, tags=["widget"])

# The popular list may sit in shared caches for a minute (config.middleware lets this
# through); a personal answer is never stored anywhere, so "off" and "deleted" act at once.
ANONYMOUS_CACHE_CONTROL = "public, max-age=60"
PERSONAL_CACHE_CONTROL = "private, no-store"


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
    n: int = Field(8, ge=1, le=answers.MAX_ITEMS)
    token: str | None = Field(
        None,
        max_length=MAX_TOKEN_LENGTH,
        description="Customer token, if it cannot be sent as `Authorization: Bearer`.",
    )


QueryModel = TypeVar("QueryModel", bound=BaseModel)


def _query_parameters(model: type[BaseModel]) -> list[dict[str, Any]]:
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


def _query(request: HttpRequest, model: type[QueryModel]) -> QueryModel:
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
        errors: list[dict[str, Any]] = []
        for details in exc.errors(include_url=False, include_input=False):
            error: dict[str, Any] = dict(details)
            error["loc"] = ("query", *error["loc"])
            if isinstance(error.get("ctx", {}).get("error"), Exception):
                error["ctx"]["error"] = str(error["ctx"]["error"])
            errors.append(error)
        raise ValidationError(errors) from None


class EventsQuery(Schema):
    key: str = Field(..., max_length=60, pattern=KEY_PATTERN)


# Ids within the column (ledger.validation): a bigger one is a mistake, answered 422.
if TYPE_CHECKING:
    ProductId = int  # what the annotated type is to a type checker
else:
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


def _admit(request: HttpRequest, key: str) -> auth.WidgetClient | HttpResponse:
    """The client, once its key, the page's origin and the rate limit let it in; else the
    error to answer. Errors say what to fix, never anything personal."""
    client = auth.request_client(request, key)
    if client is None:
        return _error(403, "Unknown or revoked widget key.")
    if not auth.origin_allowed(client, request.META.get("HTTP_ORIGIN")):
        return _error(403, "This page's origin is not registered for the widget key.")
    retry_after = rate_limit_retry_after(key=client.key, ip=client_ip(request))
    if retry_after is not None:
        return _error(429, "Too many requests.", **{"Retry-After": str(retry_after)})
    return client


def _note_gpc(request: HttpRequest, client: auth.WidgetClient, ref: str | None) -> None:
    """The token holder's browser sends Global Privacy Control: name them on the request;
    transparency's middleware records and honours it after the response. Anonymous
    visitors have no record, so nothing is noted or written for them."""
    if ref is not None and request.headers.get("Sec-GPC", "").strip() == "1":
        customer_id, _ = auth.holder_lookup(client=client, ref=ref)
        if customer_id is not None:
            # Read back with getattr by transparency.standards.gpc; HttpRequest declares none.
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
def recommendations(request: HttpRequest) -> HttpResponse:
    """The hot path (P1): no ORM, no response validation, the answer from the cache.

    Anonymous: the rate limit counted locally between reports (ratelimit) and the popular
    answer's bytes from a short per-process memo, so usually no round trip at all. Token
    holder: the signature checked once per token, then the answer from a per-process memo
    that consent changes, toggles, recomputes, retrains, purges and erasure invalidate at
    once through Redis pub/sub (memo); on a miss, one indexed query (link +
    consent) and one cache read. A holder without personal results gets the same bytes as
    anyone.
    """
    params = _query(request, RecommendationsQuery)
    client = _admit(request, params.key)
    if isinstance(client, HttpResponse):
        return client
    token = auth.bearer_token(request, params.token)
    ref = auth.customer_token_subject(client=client, token=token) if token else None
    origin = request.META["HTTP_ORIGIN"]  # _admit checked it
    _note_gpc(request, client, ref)
    if ref is not None:
        personal = answers.personal_body(client, ref, slot=params.slot, n=params.n)
        if personal is not None:
            return _json(personal, PERSONAL_CACHE_CONTROL, origin)
    body = answers.popular_body(client, slot=params.slot, n=params.n)
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
def events(
    request: HttpRequest, params: Query[EventsQuery], payload: WidgetEventIn
) -> HttpResponse:
    client = _admit(request, params.key)
    if isinstance(client, HttpResponse):
        return client
    token = auth.bearer_token(request, request.GET.get("token"))
    if token:
        _note_gpc(request, client, auth.customer_token_subject(client=client, token=token))
    customer = auth.personalization_holder(client=client, token=token)
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
        'on the way if it is not yet. The widget asks for it when a card\'s "Why?" opens, '
        "and adds `&product=<id>` for a personal card: the link then ends on that card's "
        "reasons on the customer's Recommendations page."
    ),
)
def manage_link(request: HttpRequest, params: Query[EventsQuery]) -> HttpResponse:
    client = _admit(request, params.key)
    if isinstance(client, HttpResponse):
        return client
    ref = auth.customer_token_subject(client=client, token=auth.bearer_token(request, None))
    if ref is None:
        return _error(403, "A valid customer token is required.")
    _note_gpc(request, client, ref)
    token = link_token_mint(brand=client.brand, ref=ref)
    url = request.build_absolute_uri(reverse("link_open")) + "?" + urlencode({"token": token})
    response = JsonResponse({"url": url})
    response["Cache-Control"] = "no-store"
    return response
