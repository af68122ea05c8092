"""Plain-SQL bulk inserts for rows that are already database-ready.

SQLite runs ``executemany`` in C; PostgreSQL gets ``COPY ... FROM STDIN`` (one stream, rows
formatted by psycopg in C, no SQL text per row to build or parse). Used where thousands of
rows are written at once (training results, their audit rows); everything else uses the ORM.
"""

from __future__ import annotations

from collections.abc import Sequence

from django.db import connection
from django.db.models import Model
from django.utils import timezone


def now_db():
    """The current time as the database adapter expects it (raw inserts skip the ORM)."""
    return connection.ops.adapt_datetimefield_value(timezone.now())


def _column(model: type[Model], name: str) -> str:
    field = model._meta.get_field(name)
    column = getattr(field, "column", None)
    if not isinstance(column, str):
        raise ValueError(f"{model.__name__}.{name} is not a concrete column")
    return column


def rows_insert(model: type[Model], fields: list[str], rows: Sequence[tuple]) -> None:
    """Insert ready-made rows: no model instance, no per-field preparation.

    Values must already be database-ready (see :func:`now_db`); JSON columns take JSON
    text. Column and table names come from the model's meta, quoted; values are never part
    of the SQL text.
    """
    if not rows:
        return
    qn = connection.ops.quote_name
    columns = ", ".join(qn(_column(model, f)) for f in fields)
    table = qn(model._meta.db_table)
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            with cursor.cursor.copy(f"COPY {table} ({columns}) FROM STDIN") as copy:
                for row in rows:
                    copy.write_row(row)
            return
        sql = f"INSERT INTO {table} ({columns}) VALUES ({', '.join(['%s'] * len(fields))})"  # noqa: S608
        cursor.executemany(sql, list(rows))
