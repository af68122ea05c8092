"""Reading times PostgreSQL can hold but Python cannot (or can barely) as clamped values.

PostgreSQL keeps timestamps from 4713 BC to 294276 AD and `infinity`; Python's datetime
stops at years 1 and 9999. One such row (raw SQL, a restore, an old release without the
edge checks of ledger.validation) would otherwise make psycopg raise while loading it, and
every page listing it answer 500. So every connection reads an out-of-range time as the
nearest of READ_LOW / READ_HIGH instead: far enough from Python's limits that date
arithmetic on it (retention, month buckets) cannot overflow, and plainly not a real date.
`manage.py ledger_check_times` finds such rows (in SQL, without loading them) and repairs
them.
"""

from __future__ import annotations

from datetime import UTC, datetime
from functools import cache

READ_LOW = datetime(1000, 1, 1, tzinfo=UTC)
READ_HIGH = datetime(9000, 1, 1, tzinfo=UTC)


def _is_low(data) -> bool:
    raw = bytes(data)
    return raw.startswith(b"-") or raw.endswith(b"BC")


def _clamp(value: datetime) -> datetime:
    aware = value if value.tzinfo is not None else value.replace(tzinfo=UTC)
    if aware < READ_LOW:
        return READ_LOW.astimezone(value.tzinfo) if value.tzinfo else READ_LOW.replace(tzinfo=None)
    if aware > READ_HIGH:
        return (
            READ_HIGH.astimezone(value.tzinfo) if value.tzinfo else READ_HIGH.replace(tzinfo=None)
        )
    return value


@cache
def _safe_loader(name: str, base):
    """A wrapper of the connection's loader `base` for type `name` (Django's timezone-aware
    one for timestamptz, psycopg's C ones otherwise; C classes cannot be subclassed). It
    carries `base`'s `timezone`, so Django sees the timezone it configured and keeps it on
    every cursor. One class per wrapped class, not one per connection."""
    from psycopg import DataError
    from psycopg.adapt import Loader

    tz = getattr(base, "timezone", None)

    class Safe(Loader):
        timezone = tz

        def __init__(self, oid, context=None):
            super().__init__(oid, context)
            self._inner = base(oid, context)

        def load(self, data):
            try:
                value = self._inner.load(data)
            except DataError:  # beyond Python's datetime, or +-infinity
                edge = READ_LOW if _is_low(data) else READ_HIGH
                if name == "date":
                    return edge.date()
                if name == "timestamp":
                    return edge.replace(tzinfo=None)
                return edge.astimezone(tz) if tz else edge
            if name == "date":
                return min(max(value, READ_LOW.date()), READ_HIGH.date())
            return _clamp(value)

    Safe.__name__ = f"Safe{base.__name__}"
    return Safe


def install_safe_time_loaders(sender, connection, **kwargs) -> None:
    """`connection_created` receiver (ledger.apps): PostgreSQL connections only."""
    if connection.vendor != "postgresql":
        return
    from psycopg.pq import Format

    adapters = connection.connection.adapters
    for name in ("timestamptz", "timestamp", "date"):
        base = adapters.get_loader(adapters.types[name].oid, Format.TEXT)
        adapters.register_loader(name, _safe_loader(name, base))
