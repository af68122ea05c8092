"""Pydantic schemas of the server-to-server ingest API (django-ninja).

Plain pydantic models rather than ninja.Schema: a 1,000-item batch is validated in a few
milliseconds without ninja's ORM-attribute getter. Every field carries the database's own
limits, so whatever passes validation can be stored (no 500 from the database).
"""

from decimal import Decimal
from typing import Annotated

from django.conf import settings
from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, StringConstraints

from .models import EventKind

MAX_BATCH = settings.API_MAX_BATCH

# No NUL characters: PostgreSQL text cannot hold them.
_NO_NUL = r"^[^\x00]*$"
Ref = Annotated[
    str, StringConstraints(strip_whitespace=True, min_length=1, max_length=100, pattern=_NO_NUL)
]


def _text(max_length: int):
    return Annotated[
        str, StringConstraints(strip_whitespace=True, max_length=max_length, pattern=_NO_NUL)
    ]


Money = Annotated[Decimal, Field(ge=0, max_digits=10, decimal_places=2, allow_inf_nan=False)]


class _In(BaseModel):
    model_config = ConfigDict(extra="forbid")


class CustomerIn(_In):
    external_ref: Ref = Field(description="The brand's own, stable reference for the customer.")


class ProductIn(_In):
    external_id: Ref
    name: Annotated[
        str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200, pattern=_NO_NUL)
    ]
    category: _text(100) = ""
    price: Money = Decimal("0")
    image_url: Annotated[
        str, StringConstraints(strip_whitespace=True, max_length=200, pattern=r"^(https?://\S+)?$")
    ] = ""
    active: bool = True


class OrderLineIn(_In):
    product_ref: Ref = Field(description="The product's external_id in the brand's catalog.")
    quantity: int = Field(default=1, ge=1, le=100_000)
    unit_price: Money


class OrderIn(_In):
    external_id: Ref
    customer_ref: Ref
    placed_at: AwareDatetime
    currency: Annotated[str, StringConstraints(pattern=r"^[A-Z]{3}$")] = "EUR"
    total: (
        Annotated[Decimal, Field(ge=0, max_digits=12, decimal_places=2, allow_inf_nan=False)] | None
    ) = Field(default=None, description="Defaults to the sum of the lines.")
    is_gift: bool = False
    lines: list[OrderLineIn] = Field(min_length=1, max_length=200)


class EventIn(_In):
    external_id: Ref = Field(description="Unique per brand; a re-delivered id is stored once.")
    customer_ref: Ref
    kind: EventKind
    occurred_at: AwareDatetime
    product_ref: Ref | None = None
    value: float | None = Field(default=None, ge=-1e9, le=1e9, allow_inf_nan=False)
    query: _text(200) = ""


class CustomerBatch(_In):
    items: list[CustomerIn] = Field(min_length=1, max_length=MAX_BATCH)


class ProductBatch(_In):
    items: list[ProductIn] = Field(min_length=1, max_length=MAX_BATCH)


class OrderBatch(_In):
    items: list[OrderIn] = Field(min_length=1, max_length=MAX_BATCH)


class EventBatch(_In):
    items: list[EventIn] = Field(min_length=1, max_length=MAX_BATCH)


class IngestOut(BaseModel):
    stored: int = Field(description="Items written (created or changed).")
    duplicates: int = Field(description="Items already stored under the same external id.")
    dropped: int = Field(
        description="Items not stored because the customer erased their account, or "
        "events of a customer who withdrew personalization."
    )


class ErrorOut(BaseModel):
    error: str
    index: int | None = Field(default=None, description="Position of the first bad item.")
    field: str | None = Field(default=None, description="The bad field within that item.")
    errors: list[dict] = Field(default_factory=list)
