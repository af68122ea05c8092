"""Pydantic schemas of the server-to-server ingest API (django-ninja).

Plain pydantic models rather than ninja.Schema: a 1,000-item batch is validated in a few
milliseconds without ninja's ORM-attribute getter. Every field carries the database's own
limits, so whatever passes validation can be stored (no 500 from the database).
"""

from decimal import Decimal

from django.conf import settings
from pydantic import BaseModel, ConfigDict, Field

from accounts.models import CustomerBrand

from .models import Event, EventKind, Order, OrderLine, Product
from .validation import Timestamp, decimal_for, integer_for, text_for

MAX_BATCH = settings.API_MAX_BATCH
TIME_DOC = (
    "ISO 8601 with a UTC offset, stored in UTC; accepted from 1970-01-01T00:00:00Z to 1 day "
    "from now."
)

# Every field takes its limits from the column it is stored in (ledger.validation).
Ref = text_for(Product, "external_id", min_length=1)


class _In(BaseModel):
    model_config = ConfigDict(extra="forbid")


class CustomerIn(_In):
    external_ref: text_for(CustomerBrand, "external_ref", min_length=1) = Field(
        description="The brand's own, stable reference for the customer."
    )


class ProductIn(_In):
    external_id: Ref
    name: text_for(Product, "name", min_length=1)
    category: text_for(Product, "category") = ""
    price: decimal_for(Product, "price") = Decimal("0")
    image_url: text_for(Product, "image_url", pattern=r"^(https?://\S+)?$") = ""
    active: bool = True


class OrderLineIn(_In):
    product_ref: Ref = Field(description="The product's external_id in the brand's catalog.")
    quantity: integer_for(OrderLine, "quantity", ge=1, le=100_000) = 1
    unit_price: decimal_for(OrderLine, "unit_price")


class OrderIn(_In):
    external_id: text_for(Order, "external_id", min_length=1)
    customer_ref: Ref
    placed_at: Timestamp = Field(description=TIME_DOC)
    currency: text_for(Order, "currency", pattern=r"^[A-Z]{3}$") = "EUR"
    total: decimal_for(Order, "total") | None = Field(
        default=None,
        description="Defaults to the sum of the lines; either must fit 12 digits, 2 decimals.",
    )
    is_gift: bool = False
    lines: list[OrderLineIn] = Field(min_length=1, max_length=200)


class EventIn(_In):
    external_id: text_for(Event, "external_id", min_length=1) = Field(
        description="Unique per brand; a re-delivered id is stored once."
    )
    customer_ref: Ref
    kind: EventKind
    occurred_at: Timestamp = Field(description=TIME_DOC)
    product_ref: Ref | None = None
    value: float | None = Field(default=None, ge=-1e9, le=1e9, allow_inf_nan=False)
    query: text_for(Event, "query") = ""


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
