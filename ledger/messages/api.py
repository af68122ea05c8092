"""The brand's message endpoints (server key): `POST /api/v1/messages` and
`GET /api/v1/customers/{ref}`. Thin: schema in, one service or selector call out."""

from __future__ import annotations

from dataclasses import asdict
from typing import Annotated

from django.conf import settings
from django.db import transaction
from django.http import Http404, HttpRequest
from ninja import Router
from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from accounts.audit import Actor, audit_record
from accounts.models import CustomerBrand

from ..api import ERRORS, ServerKeyAuth
from . import selectors, services
from .models import Category, Destination

MAX_BODY = 2000  # characters: a message is a note with a button, not a newsletter
_NO_NUL = r"^[^\x00]*$"
_ONE_LINE = r"^[^\x00\r\n]*$"


def _text(min_length: int, max_length: int, pattern: str = _NO_NUL):
    return Annotated[
        str,
        StringConstraints(
            strip_whitespace=True, min_length=min_length, max_length=max_length, pattern=pattern
        ),
    ]


class _In(BaseModel):
    model_config = ConfigDict(extra="forbid")


class ActionIn(_In):
    label: _text(1, 40, _ONE_LINE) = Field(description="The button's text, e.g. 'Check address'.")
    destination: Destination = Field(
        description="Where the button leads in the customer's dashboard: one of a fixed set "
        "(never a URL of the brand's choosing)."
    )
    ref: _text(1, 100) | None = Field(
        default=None, description="For `order`: the brand's external id of the order."
    )


class MessageIn(_In):
    external_id: _text(1, 100) = Field(description="Unique per brand; a repeat is stored once.")
    customer_ref: _text(1, 100)
    category: Category = Field(
        description="`service` (about the customer's account, orders or data) or `marketing` "
        "(only while the customer allows “Contacting you”)."
    )
    subject: _text(1, 150, _ONE_LINE)
    body: _text(1, MAX_BODY) = Field(description=f"Plain text, at most {MAX_BODY} characters.")
    action: ActionIn | None = None


class MessageBatch(_In):
    items: list[MessageIn] = Field(min_length=1, max_length=settings.API_MAX_BATCH)


class MessageItemOut(BaseModel):
    external_id: str
    state: str = Field(description="scheduled, held, suppressed, duplicate or dropped")
    channel: str | None = None
    due_at: str | None = None


class MessagesOut(BaseModel):
    stored: int
    duplicates: int
    dropped: int = Field(description="Messages for customers who erased their account.")
    items: list[MessageItemOut]


messages_router = Router(auth=ServerKeyAuth(), tags=["messages"])
customers_router = Router(auth=ServerKeyAuth(), tags=["customers"])


@messages_router.post(
    "", response={200: MessagesOut, **ERRORS}, summary="Send messages to customers (batch)"
)
def messages_post(request: HttpRequest, payload: MessageBatch):
    return asdict(services.messages_create(brand=request.auth, items=payload.items))


@customers_router.get("/{ref}", response={200: dict, **ERRORS}, summary="A customer's details")
def customer_get(request: HttpRequest, ref: str):
    """The customer's current provided details, limited to the kinds whose purposes they
    allow for this brand. The read is written to the customer's access log."""
    brand = request.auth
    link = CustomerBrand.objects.filter(brand=brand, external_ref=ref[:100]).first()
    if link is None:
        raise Http404
    with transaction.atomic():
        details, kinds = selectors.details_for_brand(brand=brand, link=link)
        audit_record(
            actor=Actor.brand(brand),
            customer=link.customer,
            data_kind=",".join(kinds),
            action="read",
            reason="through the API",
        )
    return {"customer_ref": link.external_ref, "kinds": kinds, **details}
