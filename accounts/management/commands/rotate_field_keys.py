"""Re-encrypt every encrypted field with the first key of FIELD_ENCRYPTION_KEYS.

Put the new key first, keep the old ones after it, run this, then drop the old keys.
Tokens are rotated as they are (MultiFernet.rotate); plaintext never leaves this process.
"""

from django.apps import apps
from django.core.management.base import BaseCommand
from django.db import models, transaction
from django.db.models.functions import Cast

from accounts.crypto import EncryptedTextField, rotate_str


def encrypted_fields(model) -> list[str]:
    return [
        f.attname
        for f in model._meta.concrete_fields
        if isinstance(f, EncryptedTextField) and f.model is model
    ]


def rotate_model(model, fields: list[str], batch_size: int) -> int:
    """Rotate every non-empty value of `fields`; returns the number of rows written."""
    # Cast to a plain TextField so the ORM hands back the stored token, not the plaintext.
    raw = {f"_raw_{name}": Cast(name, output_field=models.TextField()) for name in fields}
    manager = model._base_manager
    last_pk = None
    written = 0
    while True:
        rows = manager.order_by("pk")
        if last_pk is not None:
            rows = rows.filter(pk__gt=last_pk)
        batch = list(rows.annotate(**raw).values_list("pk", *raw.keys())[:batch_size])
        if not batch:
            return written
        last_pk = batch[-1][0]
        objs = []
        for pk, *tokens in batch:
            obj = model(pk=pk)
            for name, token in zip(fields, tokens, strict=True):
                # A Value with a plain TextField is written as is: not encrypted a second time.
                rotated = rotate_str(token) if token else token
                setattr(obj, name, models.Value(rotated, output_field=models.TextField()))
            objs.append(obj)
        with transaction.atomic():
            manager.bulk_update(objs, fields, batch_size=batch_size)
        written += len(objs)


class Command(BaseCommand):
    help = "Re-encrypt every EncryptedTextField value with the first FIELD_ENCRYPTION_KEYS key."

    def add_arguments(self, parser):
        parser.add_argument("--batch-size", type=int, default=500)

    def handle(self, *args, batch_size: int, **options):
        total = 0
        for model in apps.get_models():
            fields = encrypted_fields(model)
            if not fields:
                continue
            count = rotate_model(model, fields, batch_size)
            total += count
            self.stdout.write(
                f"{model._meta.label}: {count} rows re-encrypted ({', '.join(fields)})"
            )
        self.stdout.write(self.style.SUCCESS(f"Done: {total} rows re-encrypted."))
