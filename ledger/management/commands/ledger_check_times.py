"""Find (and with --repair, fix) stored times outside the ingest window.

Rows stored before the edge checks of ledger.validation (or written by raw SQL, a restore)
can hold times Python cannot represent; pages read them clamped (ledger.storedtimes), and
this command finds them in SQL, without loading them. --repair moves each one to the
nearest edge of the window (1970-01-01 or now) in one UPDATE per column, with one audit row
per customer in the same transaction, so the change shows in their access log.
"""

from django.apps import apps
from django.core.management.base import BaseCommand
from django.db import models, transaction
from django.db.models import Count, Q
from django.utils import timezone

from accounts.audit import Actor, AuditEntry, audit_record_many
from ledger.validation import TIME_EARLIEST, WINDOW_TEXT, time_latest
from transparency import registry

TASK = "ledger_check_times"


def time_columns():
    """(model, field name) of every datetime column of the ledger."""
    for model in apps.get_app_config("ledger").get_models():
        for field in model._meta.concrete_fields:
            if isinstance(field, models.DateTimeField):
                yield model, field.name


def _kind_name(model) -> str:
    return next(
        (k.name for k in registry.all_kinds() if k.get_model() is model), model.__name__.lower()
    )


class Command(BaseCommand):
    help = "Report ledger rows whose times are outside the accepted window; --repair clamps them."

    def add_arguments(self, parser):
        parser.add_argument("--repair", action="store_true", help="Move them into the window.")

    def handle(self, *args, repair: bool, **options):
        now_limit = time_latest()
        found = 0
        for model, name in time_columns():
            early = Q(**{f"{name}__lt": TIME_EARLIEST})
            late = Q(**{f"{name}__gt": now_limit})
            rows = model._base_manager.filter(early | late)
            n = rows.count()
            if not n:
                continue
            found += n
            label = f"{model._meta.label}.{name}"
            self.stdout.write(f"{label}: {n} row{'' if n == 1 else 's'} out of the window")
            if repair:
                self._repair(model, name, early, late)
                self.stdout.write(f"{label}: repaired {n}")
        if not found:
            self.stdout.write(f"Every stored ledger time is {WINDOW_TEXT}.")

    def _repair(self, model, name, early, late) -> None:
        has_customer = any(f.name == "customer" for f in model._meta.concrete_fields)
        with transaction.atomic():
            qs = model._base_manager.filter(early | late)
            per_customer = (
                list(qs.values("customer_id").annotate(n=Count("pk"))) if has_customer else []
            )
            model._base_manager.filter(early).update(**{name: TIME_EARLIEST})
            model._base_manager.filter(late).update(**{name: timezone.now()})
            audit_record_many(
                actor=Actor.system(TASK),
                entries=[
                    AuditEntry(
                        customer_id=row["customer_id"],
                        data_kind=_kind_name(model),
                        action="update",
                        reason=f"{row['n']} stored time(s) outside {WINDOW_TEXT} moved into it",
                    )
                    for row in per_customer
                ],
            )
