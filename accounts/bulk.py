"""Plain-SQL bulk inserts for rows that are already database-ready.

SQLite runs ``executemany`` in C; PostgreSQL gets ``COPY ... FROM STDIN`` (one stream, no SQL
text per row to build or parse; rows formatted here a column at a time, sent by psycopg's
writer thread). Used where thousands of
rows are written at once (training results, their audit rows); everything else uses the ORM.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Iterable, Iterator, Sequence
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


_BOOL_TEXT = {True: "t", False: "f"}
_SPECIAL = ("\\", "\t", "\n", "\r", "\x00")


def _column_text(values: Sequence) -> tuple[str, Sequence]:
    """One column of a block as a ``%`` conversion and the values it takes, a whole column
    per call: a column of one common type is left to the row's format (an int as ``%d``, a
    float as ``%r``: the shortest text that reads back the same), a text column with
    nothing to escape is used as it is, anything else is converted here."""
    kinds = set(map(type, values))
    kind = kinds.pop() if len(kinds) == 1 else None
    if kind is int:
        return "%d", values
    if kind is float:
        return "%r", values
    if kind is bool:
        return "%s", list(map(_BOOL_TEXT.__getitem__, values))
    if kind is str:
        text = "".join(values)
        if not any(char in text for char in _SPECIAL):
            return "%s", values
        return "%s", list(map(_copy_str, values))
    return "%s", [_copy_value(v) for v in values]  # None, str enums, datetimes, numpy scalars


def _block_text(columns: Sequence[Sequence], tail: str) -> bytes:
    """A block of rows, given column by column, as COPY text lines (``tail``: the formatted
    constants ending every line): one format string for the block, applied to each row in
    C (``str.__mod__``), which converts the numbers as it goes; a third faster than
    converting each column to text and joining each row's texts."""
    specs, values = zip(*map(_column_text, columns), strict=True)
    line = "\t".join([*specs, tail.replace("%", "%%")] if tail else specs) + "\n"
    return "".join(map(line.__mod__, zip(*values, strict=True))).encode()


def copy_text(rows: Iterable[tuple], constants: tuple = ()) -> Iterator[bytes]:
    """Rows in COPY's text format, a block of lines at a time: each value's text with the
    format's escapes (NULL as \\N); ``constants`` (the same in every row) are formatted once
    and end each line. Rows are turned into columns a block at a time and each column
    converted at once (:func:`_column_text`): psycopg's per-value adaptation took about
    13 us per training result row (two timestamps, a JSON text), this well under 1."""
    return copy_columns(_transposed(rows), constants)


def copy_columns(chunks: Iterable[Sequence[Sequence]], constants: tuple = ()) -> Iterator[bytes]:
    """As :func:`copy_text`, for rows given a chunk at a time as columns (equal-length
    sequences, one per field)."""
    tail = "\t".join(_copy_value(v) for v in constants)
    for columns in chunks:
        if columns and len(columns[0]):
            yield _block_text(columns, tail)


def _transposed(rows: Iterable[tuple]) -> Iterator[list[tuple]]:
    rows = iter(rows)
    while block := list(itertools.islice(rows, _COPY_BLOCK)):
        yield list(zip(*block, strict=True))


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
    _insert(model, fields, same or {}, rows, lambda constants: copy_text(rows, constants))


def columns_insert(
    model: type[Model],
    fields: list[str],
    chunks: Iterable[Sequence[Sequence]],
    *,
    same: dict[str, Any] | None = None,
) -> None:
    """As :func:`rows_insert`, for rows that come a chunk at a time as columns (one
    sequence per field, all of a chunk's the same length): no tuple per row is built, and
    each column is converted to COPY text at once."""

    def rows() -> Iterator[tuple]:
        for columns in chunks:
            yield from zip(*columns, strict=True)

    _insert(model, fields, same or {}, rows(), lambda constants: copy_columns(chunks, constants))


def _insert(
    model: type[Model],
    fields: list[str],
    same: dict[str, Any],
    rows: Iterable[tuple],
    copy_blocks: Callable[[tuple], Iterable[bytes]],
) -> None:
    """COPY on PostgreSQL (``copy_blocks``: the rows as COPY text), executemany of
    ``rows`` on SQLite (only one of the two is consumed)."""
    qn = connection.ops.quote_name
    columns = ", ".join(qn(_column(model, f)) for f in [*fields, *same])
    table = qn(model._meta.db_table)
    constants = tuple(same.values())
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            copying = f"COPY {table} ({columns}) FROM STDIN"
            with cursor.cursor.copy(copying, writer=QueuedLibpqWriter(cursor.cursor)) as copy:
                for block in copy_blocks(constants):
                    copy.write(block)
            return
        values = [(*row, *constants) for row in rows]
        if not values:
            return
        marks = ", ".join(["%s"] * (len(fields) + len(constants)))
        cursor.executemany(f"INSERT INTO {table} ({columns}) VALUES ({marks})", values)  # noqa: S608
