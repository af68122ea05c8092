"""Address city and label and the event search text become encrypted like the other free
text: the columns turn into text holding Fernet tokens, and existing rows are encrypted in
place (raw SQL, batch by batch, so plaintext never passes the model's decrypting field).
A value that already decrypts is left alone, so running the data step twice is harmless.
"""

from django.db import migrations

import accounts.crypto

COLUMNS = {"ledger_address": ("city", "label"), "ledger_event": ("query",)}
BATCH = 1000


def _convert(schema_editor, change) -> None:
    connection = schema_editor.connection
    quote = connection.ops.quote_name
    for table, columns in COLUMNS.items():
        for column in columns:
            last = 0
            while True:
                with connection.cursor() as cursor:
                    cursor.execute(
                        f"SELECT id, {quote(column)} FROM {quote(table)} "  # noqa: S608
                        f"WHERE id > %s AND {quote(column)} <> '' ORDER BY id LIMIT %s",
                        [last, BATCH],
                    )
                    rows = cursor.fetchall()
                    if not rows:
                        break
                    last = rows[-1][0]
                    updates = [(new, pk) for pk, old in rows if (new := change(old)) != old]
                    cursor.executemany(
                        f"UPDATE {quote(table)} SET {quote(column)} = %s WHERE id = %s",  # noqa: S608
                        updates,
                    )


def _is_token(value: str) -> bool:
    try:
        accounts.crypto.fernet().decrypt(value.encode())
    except Exception:  # noqa: BLE001  not a token of ours: plaintext
        return False
    return True


def encrypt(apps, schema_editor) -> None:
    _convert(schema_editor, lambda v: v if _is_token(v) else accounts.crypto.encrypt_str(v))


def decrypt(apps, schema_editor) -> None:
    _convert(schema_editor, lambda v: accounts.crypto.decrypt_str(v) if _is_token(v) else v)


class Migration(migrations.Migration):
    dependencies = [
        ("ledger", "0002_address_contactpreference_event_order_orderline_and_more"),
    ]

    operations = [
        migrations.AlterField(
            model_name="address",
            name="city",
            field=accounts.crypto.EncryptedTextField(max_length=100),
        ),
        migrations.AlterField(
            model_name="address",
            name="label",
            field=accounts.crypto.EncryptedTextField(blank=True, default="", max_length=40),
        ),
        migrations.AlterField(
            model_name="event",
            name="query",
            field=accounts.crypto.EncryptedTextField(blank=True, default="", max_length=200),
        ),
        migrations.RunPython(encrypt, decrypt, elidable=False),
    ]
