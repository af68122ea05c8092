"""Raw SQL that goes around the ORM, as someone with database access would."""

from django.db import connection

from accounts.append_only import history_rewrite


def raw_sql(sql: str, params: list) -> None:
    with connection.cursor() as cursor:
        cursor.execute(sql, params)


def raw_sql_past_triggers(sql: str, params: list) -> None:
    """As a database owner who drops the guard first (the chain must still catch it)."""
    with history_rewrite(reason="erasure"):
        raw_sql(sql, params)
