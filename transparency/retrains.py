"""Models trained without it: a switch-off or deletion asks its brands for a retrain at once,
and the run that read the data after it marks it (choice history, receipts).

Asking goes down a layer (recommendations.services.brand_retrain_request, coalesced per
brand); the answer comes back up as a signal (recommendations.signals.
training_run_succeeded) connected in TransparencyConfig.ready, so recommendations never
imports this app.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from django.db import transaction
from django.utils import timezone

from accounts.models import ConsentEvent, Customer
from recommendations import services as rec_services
from recommendations.switches import MODEL_KINDS

from . import registry
from .models import DeletionReceipt, RetrainMark


def model_brands(
    *, customer: Customer, kind_names: Iterable[str], pk: int | None = None
) -> set[int]:
    """Brands whose model may have read this customer's rows of these kinds (one point's
    brand when `pk` is given): one query per kind."""
    brands: set[int] = set()
    for name in kind_names:
        if name not in MODEL_KINDS:
            continue
        kind = registry.get(name)
        rows = kind.rows_for(customer)
        if pk is not None:
            rows = rows.filter(pk=pk)
        brands.update(
            b
            for b in rows.order_by().values_list(kind.brand_field, flat=True).distinct()
            if b is not None
        )
    return brands


def retrain_without(
    *,
    brand_ids: Iterable[int],
    reason: str,
    choice: ConsentEvent | None = None,
    receipt: DeletionReceipt | None = None,
) -> None:
    """Ask each brand for a retrain and leave a mark the run that reads the data answers.

    Call inside the transaction of the change, after it: the request takes the brand's
    request lock, so the mark's time is after any run that could have missed the change
    was claimed (recommendations.services.training_run_claim)."""
    brand_ids = sorted(set(brand_ids))
    for brand_id in brand_ids:
        rec_services.brand_retrain_request(brand_id=brand_id, reason=reason, withdrawn=True)
    now = timezone.now()
    RetrainMark.objects.bulk_create(
        [
            RetrainMark(brand_id=b, choice=choice, receipt=receipt, requested_at=now)
            for b in brand_ids
        ]
    )


@transaction.atomic
def marks_retrained(
    *, brand_id: int, run_id: int, data_read_from: datetime, finished_at: datetime
) -> int:
    """Mark everything of the brand requested before the run read its data; receipts get
    the run in `model_versions_after`. Idempotent; returns how many marks it answered."""
    waiting = RetrainMark.objects.select_for_update().filter(
        brand_id=brand_id, trained_at__isnull=True, requested_at__lt=data_read_from
    )
    receipt_ids = sorted({r for r in waiting.values_list("receipt_id", flat=True) if r})
    marked = waiting.update(training_run_id=run_id, trained_at=finished_at)
    for receipt in DeletionReceipt.objects.select_for_update().filter(pk__in=receipt_ids):
        versions = dict(receipt.model_versions_after)
        if versions.get(str(brand_id)) is None:
            versions[str(brand_id)] = run_id
            DeletionReceipt.objects.filter(pk=receipt.pk).update(model_versions_after=versions)
    return marked


def on_training_run_succeeded(sender, *, brand_id, run_id, data_read_from, finished_at, **kw):
    if data_read_from is None or finished_at is None:
        return
    marks_retrained(
        brand_id=brand_id, run_id=run_id, data_read_from=data_read_from, finished_at=finished_at
    )


def choice_notes(*, choice_ids: Iterable[int]) -> dict[int, list[dict]]:
    """{choice id: [{"brand", "trained_at" (None: still waiting)}]} for the history page."""
    notes: dict[int, list[dict]] = {}
    marks = (
        RetrainMark.objects.filter(choice_id__in=list(choice_ids))
        .select_related("brand")
        .order_by("brand__name", "pk")
    )
    for mark in marks:
        if mark.choice_id is None:  # filtered on choice ids: never None here
            continue
        notes.setdefault(mark.choice_id, []).append(
            {"brand": mark.brand.name, "trained_at": mark.trained_at}
        )
    return notes
