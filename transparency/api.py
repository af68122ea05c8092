"""The brand bridge's API, with the brand's server key (mounted in config/api.py):

- `/api/v1/webhooks/endpoints`: register, list and disable webhook endpoints;
- `/api/v1/erasures/{id}/confirm`: the brand confirms it deleted on its side too.

Every lookup is scoped to the key's brand: another brand's id answers 404.
"""

from datetime import datetime
from typing import Annotated
from uuid import UUID

from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import Http404, HttpRequest
from ninja import Router, Status
from ninja.errors import HttpError
from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from accounts.models import WebhookEndpoint, WebhookEventType
from accounts.webhooks import webhook_endpoint_create, webhook_endpoint_disable
from ledger.api import ERRORS, ServerKeyAuth
from ledger.schemas import ErrorOut

from . import bridge
from .models import ErasureNotice

erasures_router = Router(auth=ServerKeyAuth(), tags=["brand bridge"])
webhooks_router = Router(auth=ServerKeyAuth(), tags=["brand bridge"])


class ConfirmationOut(BaseModel):
    id: UUID = Field(description="The erasure_id from the data.deleted/customer.erased event.")
    confirmed_at: datetime = Field(description="When the brand first confirmed (kept on repeats).")


@erasures_router.post(
    "/{uuid:id}/confirm",
    response={200: ConfirmationOut, 404: ErrorOut, **ERRORS},
    summary="Confirm a deletion or erasure on the brand's side",
    description="Idempotent: confirming again answers the first confirmation's time. The "
    "customer's receipt shows it. An id that is not one of this brand's answers 404.",
)
def erasure_confirm(request: HttpRequest, id: UUID):
    try:
        notice = bridge.erasure_confirm(brand=request.auth, public_id=id)
    except ErasureNotice.DoesNotExist as exc:
        raise Http404 from exc
    return {"id": notice.public_id, "confirmed_at": notice.confirmed_at}


EventType = Annotated[str, StringConstraints(pattern=r"^[a-z_.]{1,40}$")]


class EndpointIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    url: str = Field(max_length=500, description="The https URL that receives the events.")
    event_types: list[EventType] = Field(
        default_factory=list,
        max_length=len(WebhookEventType.values),
        description="Event types to receive; empty: all of them.",
    )
    description: Annotated[str, StringConstraints(max_length=120, pattern=r"^[^\x00]*$")] = ""


class EndpointOut(BaseModel):
    id: int
    url: str
    event_types: list[str]
    description: str
    created_at: datetime
    disabled_at: datetime | None


class EndpointCreated(EndpointOut):
    secret: str = Field(
        description="The signing secret (whsec_...), shown this once: store it now."
    )


def _out(endpoint: WebhookEndpoint) -> dict:
    return {
        "id": endpoint.pk,
        "url": endpoint.url,
        "event_types": endpoint.event_types,
        "description": endpoint.description,
        "created_at": endpoint.created_at,
        "disabled_at": endpoint.disabled_at,
    }


@webhooks_router.post(
    "/endpoints",
    response={201: EndpointCreated, **ERRORS},
    summary="Register a webhook endpoint (the signing secret is shown once)",
)
def endpoint_create(request: HttpRequest, payload: EndpointIn):
    try:
        endpoint, secret = webhook_endpoint_create(
            brand=request.auth,
            url=payload.url,
            event_types=payload.event_types,
            description=payload.description,
        )
    except DjangoValidationError as exc:
        raise HttpError(422, " ".join(exc.messages)) from exc
    return Status(201, {**_out(endpoint), "secret": secret})


@webhooks_router.get(
    "/endpoints",
    response={200: list[EndpointOut], **ERRORS},
    summary="The brand's webhook endpoints (never their secrets)",
)
def endpoint_list(request: HttpRequest):
    return [_out(e) for e in WebhookEndpoint.objects.filter(brand=request.auth).order_by("pk")]


@webhooks_router.delete(
    "/endpoints/{endpoint_id}",
    response={200: EndpointOut, 404: ErrorOut, **ERRORS},
    summary="Disable an endpoint; what was still waiting for it is given up on",
)
def endpoint_disable(request: HttpRequest, endpoint_id: int):
    endpoint = WebhookEndpoint.objects.filter(pk=endpoint_id, brand=request.auth).first()
    if endpoint is None:
        raise Http404
    webhook_endpoint_disable(endpoint=endpoint)
    return _out(endpoint)
