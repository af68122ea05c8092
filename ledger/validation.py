"""Constrained types for values arriving at the edge (ingest API, widget events, forms).

Whatever passes them can be stored and read back: limits are taken from the model columns
themselves (max_length, max_digits/decimal_places, the integer range of the database), text
holds no NUL (PostgreSQL text cannot) and no lone surrogate (not UTF-8), and times are
aware, converted to UTC and inside the accepted window:

    from TIME_EARLIEST (1970-01-01T00:00:00Z) to now + TIME_FUTURE_ALLOWANCE (1 day).

A time outside the window is refused, never clamped: the sender learns which item and field
to fix. Rows stored before these checks are read safely anyway (ledger.storedtimes).
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Annotated

from django.db.models import Model
from pydantic import AfterValidator, AwareDatetime, Field, StringConstraints
from pydantic_core import PydanticCustomError

TIME_EARLIEST = datetime(1970, 1, 1, tzinfo=UTC)
TIME_FUTURE_ALLOWANCE = timedelta(days=1)
WINDOW_TEXT = "between 1970-01-01T00:00:00Z and 1 day from now"


# --- times -------------------------------------------------------------------------------


def time_latest() -> datetime:
    return datetime.now(UTC) + TIME_FUTURE_ALLOWANCE


def in_time_window(value: datetime) -> datetime:
    """`value` (aware) in UTC, or a validation error when it is outside the window."""
    try:
        utc = value.astimezone(UTC)
    except (OverflowError, ValueError):  # e.g. year 1 at +14:00 is 1 BC in UTC
        utc = None
    if utc is None or utc < TIME_EARLIEST or utc > time_latest():
        raise PydanticCustomError(
            "time_window", "time must be " + WINDOW_TEXT + " (with a UTC offset)"
        )
    return utc


Timestamp = Annotated[AwareDatetime, AfterValidator(in_time_window)]


# --- text --------------------------------------------------------------------------------


def storable_text(value: str) -> str:
    if "\x00" in value:
        raise PydanticCustomError("nul_character", "text must not contain NUL characters")
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        raise PydanticCustomError(
            "not_utf8", "text must be valid Unicode (no lone surrogates)"
        ) from None
    return value


def text_for(model: type[Model], field: str, *, min_length: int = 0, pattern: str | None = None):
    """A stripped str that fits `model.field` (its max_length)."""
    max_length = model._meta.get_field(field).max_length
    return Annotated[
        str,
        StringConstraints(
            strip_whitespace=True, min_length=min_length, max_length=max_length, pattern=pattern
        ),
        AfterValidator(storable_text),
    ]


# --- numbers -----------------------------------------------------------------------------


def decimal_for(model: type[Model], field: str, *, ge: Decimal | int | None = 0):
    """A finite Decimal that fits `model.field` (max_digits, decimal_places)."""
    f = model._meta.get_field(field)
    return Annotated[
        Decimal,
        Field(ge=ge, max_digits=f.max_digits, decimal_places=f.decimal_places, allow_inf_nan=False),
    ]


def decimal_fits(value: Decimal, model: type[Model], field: str) -> bool:
    """Whether a computed value (an order's total) fits `model.field` without rounding."""
    f = model._meta.get_field(field)
    if not value.is_finite():
        return False
    exponent = value.as_tuple().exponent
    places = max(0, -exponent) if isinstance(exponent, int) else 0
    if places > f.decimal_places:
        return False
    return abs(value) < Decimal(10) ** (f.max_digits - f.decimal_places)


_INTEGER_COLUMNS = {  # PostgreSQL's ranges; SQLite's 64-bit integers hold all of them
    "SmallIntegerField": (-32768, 32767),
    "PositiveSmallIntegerField": (0, 32767),
    "IntegerField": (-2147483648, 2147483647),
    "PositiveIntegerField": (0, 2147483647),
}


def integer_range(model: type[Model], field: str) -> tuple[int, int]:
    """The range the database column of `model.field` holds (bigint unless listed)."""
    internal = model._meta.get_field(field).get_internal_type()
    if internal == "ForeignKey":
        internal = model._meta.get_field(field).target_field.get_internal_type()
    return _INTEGER_COLUMNS.get(internal, (-(2**63), 2**63 - 1))


def integer_for(model: type[Model], field: str, *, ge: int | None = None, le: int | None = None):
    """An int within the column of `model.field`, optionally narrowed by `ge`/`le`."""
    low, high = integer_range(model, field)
    return Annotated[
        int,
        Field(ge=low if ge is None else max(ge, low), le=high if le is None else min(le, high)),
    ]
