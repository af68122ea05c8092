"""The brand's own record of a customer, sent with `POST /api/v1/ingest/customers`.

Each customer item may carry `record` (legal name, birthday, email, phone, addresses,
contact preferences per channel, each with when it was collected), `consents` the brand
collected itself and `third_party` attributes it received from a named partner. Every field
carries the database's limits, so what passes can be stored; every time is timezone-aware
and between 1970 and a day from now; no text holds a NUL (PostgreSQL cannot store it).
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Annotated, Literal

from pydantic import AfterValidator, AwareDatetime, Field, StringConstraints

from accounts.models import Purpose
from transparency.registry import PURPOSES

from .countries import COUNTRY_CODES
from .schemas import MAX_BATCH, CustomerIn, IngestOut, _In

_NO_NUL = r"^[^\x00]*$"
EARLIEST = datetime(1970, 1, 1, tzinfo=UTC)


def _text(min_length: int, max_length: int, pattern: str = _NO_NUL):
    return Annotated[
        str,
        StringConstraints(
            strip_whitespace=True, min_length=min_length, max_length=max_length, pattern=pattern
        ),
    ]


def _in_range(moment: datetime) -> datetime:
    if moment < EARLIEST:
        raise ValueError("must be 1970 or later")
    if moment > datetime.now(UTC) + timedelta(days=1):
        raise ValueError("must not be more than a day in the future")
    return moment


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


Collected = Annotated[
    AwareDatetime,
    AfterValidator(_in_range),
    Field(description="When the brand collected it (timezone-aware, 1970 to now + 1 day)."),
]


class _Fact(_In):
    collected_at: Collected


class NameFact(_Fact):
    value: _text(1, 200)


class BirthdayFact(_Fact):
    value: Annotated[date, AfterValidator(_birthday)] = Field(description="YYYY-MM-DD")


class EmailFact(_Fact):
    value: _text(3, 254, r"^[^\x00\s@]+@[^\x00\s@]+\.[^\x00\s@]+$")


class PhoneFact(_Fact):
    value: Annotated[_text(7, 30, r"^\+?[0-9][0-9 ()\-]*$"), AfterValidator(_phone)]


class AddressIn(_In):
    external_id: _text(1, 100) = Field(description="The brand's own id for this address.")
    label: _text(0, 40) = ""
    recipient: _text(1, 200)
    line1: _text(1, 200)
    line2: _text(0, 200) = ""
    city: _text(1, 100)
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
    channel: _text(1, 30) = Field(description='Where it was collected, e.g. "checkout".')
    wording_version: _text(1, 40) = Field(description="The version of the wording shown.")


class PartnerAttributeIn(_In):
    """An attribute the brand received from a named partner (third-party enrichment)."""

    partner: _text(1, 100) = Field(description="The partner's name, shown to the customer.")
    name: _text(1, 100) = Field(description='What it is, e.g. "household income band".')
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
