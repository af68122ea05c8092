"""Raw SQL that goes around the ORM, as someone with database access would."""

from django.db import connection


def raw_sql(sql: str, params: list) -> None:
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
