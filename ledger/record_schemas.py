"""The brand's own record of a customer, sent with `POST /api/v1/ingest/customers`.

Each customer item may carry `record` (legal name, birthday, email, phone, addresses,
contact preferences per channel, each with when it was collected), `consents` the brand
collected itself and `third_party` attributes it received from a named partner. Every field
carries the database's limits, so what passes can be stored; times and text are checked by
ledger.validation like every ingest (aware, 1970 to a day from now, stored in UTC; no NUL).
"""

from __future__ import annotations

from datetime import date
from typing import Annotated, Literal

from pydantic import AfterValidator, Field, StringConstraints

from accounts.models import ConsentEvent, Purpose
from transparency.registry import PURPOSES

from .countries import COUNTRY_CODES
from .models import Address, PartnerAttribute
from .schemas import MAX_BATCH, TIME_DOC, CustomerIn, IngestOut, _In
from .validation import Timestamp, storable_text, text_for


def _text(min_length: int, max_length: int, pattern: str | None = None):
    """Stripped, storable text (ledger.validation) for a column without its own limit (an
    encrypted one): the limit is this API's."""
    return Annotated[
        str,
        StringConstraints(
            strip_whitespace=True, min_length=min_length, max_length=max_length, pattern=pattern
        ),
        AfterValidator(storable_text),
    ]


def _birthday(day: date) -> date:
    if day.year < 1900:
        raise ValueError("must be 1900 or later")
    if day > date.today():
        raise ValueError("cannot be in the future")
    return day


def _country(code: str) -> str:
    if code not in COUNTRY_CODES:
        raise ValueError("unknown country: an ISO 3166-1 alpha-2 code, e.g. GB")
    return code


def _phone(value: str) -> str:
    if not 7 <= sum(ch.isdigit() for ch in value) <= 15:
        raise ValueError("a phone number has 7 to 15 digits")
    return value


Collected = Annotated[Timestamp, Field(description="When the brand collected it. " + TIME_DOC)]


class _Fact(_In):
    collected_at: Collected


class NameFact(_Fact):
    value: _text(1, 200)


class BirthdayFact(_Fact):
    value: Annotated[date, AfterValidator(_birthday)] = Field(description="YYYY-MM-DD")


class EmailFact(_Fact):
    value: _text(3, 254, r"^[^\s@]+@[^\s@]+\.[^\s@]+$")


class PhoneFact(_Fact):
    value: Annotated[_text(7, 30, r"^\+?[0-9][0-9 ()\-]*$"), AfterValidator(_phone)]


class AddressIn(_In):
    external_id: text_for(Address, "external_id", min_length=1) = Field(
        description="The brand's own id for this address."
    )
    label: text_for(Address, "label") = ""
    recipient: _text(1, 200)
    line1: _text(1, 200)
    line2: _text(0, 200) = ""
    city: text_for(Address, "city", min_length=1)
    postal_code: _text(1, 20)
    country: Annotated[str, StringConstraints(pattern=r"^[A-Z]{2}$"), AfterValidator(_country)]
    collected_at: Collected


class ChannelPreferenceIn(_In):
    channel: Literal["email", "sms", "post"]
    allowed: bool
    collected_at: Collected


def _unique(attr: str):
    def check(items: list) -> list:
        seen = [getattr(i, attr) for i in items]
        if len(seen) != len(set(seen)):
            raise ValueError(f"each {attr} at most once")
        return items

    return AfterValidator(check)


class RecordIn(_In):
    """The brand's own record of the person. Every part is optional."""

    legal_name: NameFact | None = None
    birthday: BirthdayFact | None = None
    email: EmailFact | None = None
    phone: PhoneFact | None = None
    addresses: Annotated[list[AddressIn], Field(max_length=20), _unique("external_id")] = []
    contact_preferences: Annotated[
        list[ChannelPreferenceIn], Field(max_length=3), _unique("channel")
    ] = []


class ConsentIn(_In):
    """A consent the brand collected itself: stored in the customer's consent history."""

    purpose: Literal[tuple(Purpose.values)]  # type: ignore[valid-type]
    allowed: bool
    collected_at: Collected
    channel: text_for(ConsentEvent, "channel", min_length=1) = Field(
        description='Where it was collected, e.g. "checkout".'
    )
    wording_version: text_for(ConsentEvent, "wording_version", min_length=1) = Field(
        description="The version of the wording shown."
    )


class PartnerAttributeIn(_In):
    """An attribute the brand received from a named partner (third-party enrichment)."""

    partner: text_for(PartnerAttribute, "partner_name", min_length=1) = Field(
        description="The partner's name, shown to the customer."
    )
    name: text_for(PartnerAttribute, "name", min_length=1) = Field(
        description='What it is, e.g. "household income band".'
    )
    value: _text(0, 1000)
    purpose: Literal[tuple(PURPOSES)] = Field(  # type: ignore[valid-type]
        description="The purpose it was obtained for."
    )
    obtained_at: Collected


class CustomerRecordIn(CustomerIn):
    record: RecordIn | None = None
    consents: Annotated[list[ConsentIn], Field(max_length=20)] = []
    third_party: Annotated[list[PartnerAttributeIn], Field(max_length=50)] = []


class CustomerRecordBatch(_In):
    items: list[CustomerRecordIn] = Field(min_length=1, max_length=MAX_BATCH)


class CustomerRecordOut(IngestOut):
    third_party_dropped: int = Field(
        default=0,
        description="Third-party attributes not stored: the customer does not allow "
        "third-party enrichment (or erased their account).",
    )
    customer_values_kept: int = Field(
        default=0,
        description="Values not applied because the customer corrected them in Candor; "
        "yours is recorded beside theirs and a data.updated webhook tells you.",
    )
