"""Ingest endpoints (`/api/v1/ingest/...`): thin, each one schema in -> one service call.

Authenticated by a brand's server key (`Authorization: Bearer sk_...`); the key resolves to
the brand and every lookup below is scoped to it. Errors are rendered by config.api.
"""

from dataclasses import asdict

from django.conf import settings
from django.http import HttpRequest
from ninja import Router
from ninja.security import HttpBearer

from accounts.keys import server_key_authenticate
from accounts.models import Brand

from . import ingest
from .record_ingest import customer_records_ingest
from .record_schemas import CustomerRecordBatch, CustomerRecordOut
from .schemas import (
    ErrorOut,
    EventBatch,
    IngestOut,
    OrderBatch,
    ProductBatch,
)


class BodyTooLarge(Exception):
    pass


class ServerKeyAuth(HttpBearer):
    """Bearer server key -> Brand. Publishable widget keys (pk_...) never authenticate here."""

    def __call__(self, request: HttpRequest) -> Brand | None:
        # Refuse an announced over-size body before anything reads it.
        try:
            announced = int(request.META.get("CONTENT_LENGTH") or 0)
        except ValueError:
            announced = 0
        if announced > settings.API_MAX_BODY_BYTES:
            raise BodyTooLarge
        # Unlike ninja's HttpBearer, never log the header: it may hold a secret.
        scheme, _, token = request.headers.get("Authorization", "").partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            return None
        return self.authenticate(request, token.strip())

    def authenticate(self, request: HttpRequest, token: str) -> Brand | None:
        return server_key_authenticate(token)


ERRORS = {400: ErrorOut, 401: ErrorOut, 413: ErrorOut, 422: ErrorOut}

router = Router(auth=ServerKeyAuth(), tags=["ingest"])


@router.post(
    "/customers",
    response={200: CustomerRecordOut, **ERRORS},
    summary="Upsert customers by the brand's external reference, with the brand's record",
)
def ingest_customers(request: HttpRequest, payload: CustomerRecordBatch):
    return customer_records_ingest(brand=request.auth, items=payload.items)


@router.post(
    "/products",
    response={200: IngestOut, **ERRORS},
    summary="Upsert catalog products by external id",
)
def ingest_products(request: HttpRequest, payload: ProductBatch):
    return asdict(ingest.products_ingest(brand=request.auth, items=payload.items))


@router.post(
    "/orders",
    response={200: IngestOut, **ERRORS},
    summary="Record orders (idempotent on external id)",
)
def ingest_orders(request: HttpRequest, payload: OrderBatch):
    return asdict(ingest.orders_ingest(brand=request.auth, items=payload.items))


@router.post(
    "/events",
    response={200: IngestOut, **ERRORS},
    summary="Record interaction events (idempotent on external id)",
)
def ingest_events(request: HttpRequest, payload: EventBatch):
    return asdict(ingest.events_ingest(brand=request.auth, items=payload.items))
