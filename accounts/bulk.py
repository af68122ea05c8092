"""Plain-SQL bulk inserts for rows that are already database-ready.

SQLite runs ``executemany`` in C; PostgreSQL gets ``COPY ... FROM STDIN`` (one stream, rows
formatted by psycopg in C, no SQL text per row to build or parse). Used where thousands of
rows are written at once (training results, their audit rows); everything else uses the ORM.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from typing import Any

from django.db import connection
from django.db.models import Model
from django.utils import timezone
from psycopg.copy import QueuedLibpqWriter


def now_db():
    """The current time as the database adapter expects it (raw inserts skip the ORM)."""
    return connection.ops.adapt_datetimefield_value(timezone.now())


def _column(model: type[Model], name: str) -> str:
    field = model._meta.get_field(name)
    column = getattr(field, "column", None)
    if not isinstance(column, str):
        raise ValueError(f"{model.__name__}.{name} is not a concrete column")
    return column


#: COPY's text format: these characters in a value are written as escapes (backslash
#: first). str.replace after a fast ``in`` test: str.translate went character by character.
_COPY_ESCAPES = (("\\", "\\\\"), ("\t", "\\t"), ("\n", "\\n"), ("\r", "\\r"))
#: Rows per block sent to the server (a block is formatted, then queued for sending).
_COPY_BLOCK = 5000


def _copy_str(value: str) -> str:
    if "\x00" in value:
        raise ValueError("text with a NUL character cannot be stored")
    for char, escaped in _COPY_ESCAPES:
        if char in value:
            value = value.replace(char, escaped)
    return value


def _copy_value(value: object) -> str:
    if value is None:
        return "\\N"
    if isinstance(value, str):
        return _copy_str(str(value))
    if isinstance(value, bytes | bytearray | memoryview):
        raise TypeError("rows_insert writes no binary values")
    return str(value)  # bool, Decimal, date, aware datetime, numpy scalars


#: The common types by exact type (one dict lookup and a C call per value); anything else
#: (None, str enums, datetimes, numpy scalars) through _copy_value.
_COPY_FORMAT: dict[type, Callable[[Any], str]] = {
    int: int.__str__,
    float: float.__repr__,  # shortest text that reads back as the same double
    bool: bool.__str__,
    str: _copy_str,
}


def copy_text(rows: Iterable[tuple], constants: tuple = ()) -> Iterator[bytes]:
    """Rows in COPY's text format, a block of lines at a time: each value's text with the
    format's escapes (NULL as \\N); ``constants`` (the same in every row) are formatted once
    and end each line. psycopg's per-value adaptation took about 13 us per training result
    row (two timestamps, a JSON text); this takes a few."""
    tail = "".join("\t" + _copy_value(v) for v in constants)
    get, other = _COPY_FORMAT.get, _copy_value
    lines: list[str] = []
    for row in rows:
        lines.append("\t".join([get(type(v), other)(v) for v in row]) + tail)
        if len(lines) == _COPY_BLOCK:
            yield ("\n".join(lines) + "\n").encode()
            lines = []
    if lines:
        yield ("\n".join(lines) + "\n").encode()


def rows_insert(
    model: type[Model],
    fields: list[str],
    rows: Iterable[tuple],
    *,
    same: dict[str, Any] | None = None,
) -> None:
    """Insert ready-made rows: no model instance, no per-field preparation.

    ``rows`` may be a generator: on PostgreSQL the rows are formatted (here) and sent (by
    psycopg's writer thread) as they come, so the server stores earlier rows while later
    ones are still being produced. ``same``: columns with one value for every row (the
    brand, a timestamp), formatted once.

    Values must already be database-ready (see :func:`now_db`); JSON columns take JSON
    text. Column and table names come from the model's meta, quoted; values are never part
    of the SQL text.
    """
    same = same or {}
    qn = connection.ops.quote_name
    columns = ", ".join(qn(_column(model, f)) for f in [*fields, *same])
    table = qn(model._meta.db_table)
    constants = tuple(same.values())
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            copying = f"COPY {table} ({columns}) FROM STDIN"
            with cursor.cursor.copy(copying, writer=QueuedLibpqWriter(cursor.cursor)) as copy:
                for block in copy_text(rows, constants):
                    copy.write(block)
            return
        values = [(*row, *constants) for row in rows]
        if not values:
            return
        marks = ", ".join(["%s"] * (len(fields) + len(constants)))
        cursor.executemany(f"INSERT INTO {table} ({columns}) VALUES ({marks})", values)  # noqa: S608
