"""The JSON API, versioned under /api/v1/ (docs at /api/v1/docs, schema at openapi.json).

Every error is JSON with an "error" message: 400 malformed JSON (where it broke), 401 bad
or missing key, 413 over-size body, 422 invalid input (the item index and field). Routers
are mounted below, one line each; add yours there.
"""

import json
import logging

from django.conf import settings
from django.core.exceptions import RequestDataTooBig
from django.http import Http404, HttpRequest, HttpResponse
from ninja import NinjaAPI
from ninja.errors import AuthenticationError, HttpError, ValidationError
from ninja.parser import Parser

from ledger.api import BodyTooLarge
from ledger.api import router as ingest_router
from ledger.ingest_batch import IngestRejected
from ledger.messages.api import customers_router, messages_router
from recommendations.widget.api import router as widget_router
from transparency.api import erasures_router, webhooks_router

log = logging.getLogger(__name__)


class LimitedJSONParser(Parser):
    """JSON bodies up to API_MAX_BODY_BYTES (checked on the bytes actually received)."""

    def parse_body(self, request: HttpRequest):
        body = request.body
        if len(body) > settings.API_MAX_BODY_BYTES:
            raise BodyTooLarge
        return json.loads(body)


api = NinjaAPI(
    title="Candor API",
    version="1",
    urls_namespace="api-1",
    docs_url="/docs",
    parser=LimitedJSONParser(),
)

# --- routers: (prefix, router) -----------------------------------------------------------
api.add_router("/ingest/", ingest_router)
api.add_router("/widget/", widget_router)
api.add_router("/webhooks/", webhooks_router)
api.add_router("/erasures/", erasures_router)
api.add_router("/messages", messages_router)
api.add_router("/customers/", customers_router)


# --- errors ------------------------------------------------------------------------------


def _error(request, status: int, message: str, **extra) -> HttpResponse:
    return api.create_response(request, {"error": message, **extra}, status=status)


def _too_large(request) -> HttpResponse:
    limit = settings.API_MAX_BODY_BYTES
    return _error(request, 413, f"request body larger than {limit} bytes", limit=limit)


def _item_errors(errors: list[dict]) -> list[dict]:
    """Pydantic's errors as {index, field, message}, without echoing the input back."""
    out = []
    for err in errors:
        loc = [part for part in err.get("loc", ()) if part not in ("body", "payload")]
        index = None
        if len(loc) >= 2 and loc[0] == "items" and isinstance(loc[1], int):
            index, loc = loc[1], loc[2:]
        out.append(
            {
                "index": index,
                "field": ".".join(str(p) for p in loc) or "body",
                "message": err.get("msg", "invalid"),
            }
        )
    return out


@api.exception_handler(ValidationError)
def on_validation_error(request, exc: ValidationError):
    errors = _item_errors(exc.errors)
    first = errors[0] if errors else {"index": None, "field": "body"}
    where = f"item {first['index']}, " if first["index"] is not None else ""
    return _error(
        request,
        422,
        f"invalid input at {where}field {first['field']}",
        index=first["index"],
        field=first["field"],
        errors=errors[:20],
    )


@api.exception_handler(IngestRejected)
def on_ingest_rejected(request, exc: IngestRejected):
    errors = [{"index": e.index, "field": e.field, "message": e.message} for e in exc.errors]
    first = exc.errors[0]
    return _error(
        request,
        422,
        f"invalid input at item {first.index}, field {first.field}: {first.message}; "
        "nothing was stored",
        index=first.index,
        field=first.field,
        errors=errors,
    )


@api.exception_handler(AuthenticationError)
def on_authentication_error(request, exc):
    response = _error(request, 401, "invalid or missing server key")
    response["WWW-Authenticate"] = "Bearer"
    return response


@api.exception_handler(BodyTooLarge)
def on_body_too_large(request, exc):
    return _too_large(request)


@api.exception_handler(RequestDataTooBig)
def on_request_data_too_big(request, exc):
    return _too_large(request)


@api.exception_handler(HttpError)
def on_http_error(request, exc: HttpError):
    cause = exc.__cause__
    if isinstance(cause, BodyTooLarge):
        return _too_large(request)
    if isinstance(cause, json.JSONDecodeError):
        return _error(
            request,
            400,
            f"malformed JSON: {cause.msg} at line {cause.lineno} column {cause.colno}",
        )
    if isinstance(cause, UnicodeDecodeError):
        return _error(request, 400, "malformed JSON: the body is not UTF-8")
    if exc.status_code == 400 and cause is not None:
        return _error(request, 400, "malformed JSON: the body cannot be parsed")
    return _error(request, exc.status_code, str(exc))


@api.exception_handler(Http404)
def on_not_found(request, exc):
    return _error(request, 404, "not found")


@api.exception_handler(Exception)
def on_unexpected(request, exc):
    # Type and path only: the message could quote submitted values.
    log.error("api: unhandled %s on %s", type(exc).__name__, request.path, exc_info=settings.DEBUG)
    return _error(request, 500, "internal error")
