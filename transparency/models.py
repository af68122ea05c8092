"""Proof of what the customer asked for: deletion receipts and data requests.

Neither holds personal content: a receipt names kinds and counts, a request its state and
deadline. Both outlive an erased account (their customer link is set to NULL), so the
customer and staff can still show what was done and when.
"""

import calendar
import uuid
from datetime import datetime

from django.db import models
from django.utils import timezone

from accounts.models import Customer


class ReceiptScope(models.TextChoices):
    POINT = "point", "One data point"
    KIND = "kind", "A whole kind of data"
    BRAND = "brand", "One brand's data"
    ACCOUNT = "account", "The whole account"
    RETENTION = "retention", "Retention period ended"


class DeletionReceipt(models.Model):
    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    customer = models.ForeignKey(
        Customer,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="deletion_receipts",
    )
    scope = models.CharField(max_length=12, choices=ReceiptScope.choices)
    # {kind name: rows deleted}; kind names and numbers only.
    kinds = models.JSONField(default=dict)
    # {brand id: training run id or null while the retrain is pending}.
    model_versions_after = models.JSONField(default=dict, blank=True)
    requested_at = models.DateTimeField()
    completed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-requested_at", "-id"]

    def __str__(self) -> str:
        return f"receipt {self.public_id}"

    @property
    def total(self) -> int:
        return sum(self.kinds.values())

    @property
    def retrain_pending(self) -> bool:
        return any(v is None for v in self.model_versions_after.values())


class DataRequestKind(models.TextChoices):
    EXPORT = "export", "Export (access / portability)"
    ERASURE = "erasure", "Erasure"
    ACCESS = "access", "Access (Art. 15, asked of staff)"
    CORRECTION = "correction", "Correction (Art. 16)"


class DataRequestState(models.TextChoices):
    RECEIVED = "received", "Received"
    IN_PROGRESS = "in_progress", "In progress"
    DONE = "done", "Done"


def add_months(moment: datetime, months: int) -> datetime:
    """Same day `months` later, clamped to the month's last day (Jan 31 + 1 -> Feb 28/29)."""
    index = moment.month - 1 + months
    year, month = moment.year + index // 12, index % 12 + 1
    day = min(moment.day, calendar.monthrange(year, month)[1])
    return moment.replace(year=year, month=month, day=day)


def add_one_month(moment: datetime) -> datetime:
    return add_months(moment, 1)


class DataRequest(models.Model):
    customer = models.ForeignKey(
        Customer,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="data_requests",
    )
    kind = models.CharField(max_length=10, choices=DataRequestKind.choices)
    state = models.CharField(
        max_length=12, choices=DataRequestState.choices, default=DataRequestState.RECEIVED
    )
    received_at = models.DateTimeField(default=timezone.now)
    deadline = models.DateTimeField()
    completed_at = models.DateTimeField(null=True, blank=True)
    receipt = models.ForeignKey(
        DeletionReceipt, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    # GDPR Art. 12(3): extendable once, by up to two further months, with the reason told.
    extended_until = models.DateTimeField(null=True, blank=True)
    extension_reason = models.CharField(max_length=300, blank=True)
    extended_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-received_at", "-id"]
        indexes = [models.Index(fields=["state", "deadline"])]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} request #{self.pk}"

    def save(self, *args, **kwargs):
        if self.deadline is None:
            self.deadline = add_one_month(self.received_at)
        super().save(*args, **kwargs)

    @property
    def due(self) -> datetime:
        """The deadline in force: the extended one once extended."""
        return self.extended_until or self.deadline

    @property
    def overdue(self) -> bool:
        return self.state != DataRequestState.DONE and self.due < timezone.now()


class ErasureNotice(models.Model):
    """A deletion told to one brand (webhook), and the brand's confirmation of it.

    `public_id` is what the brand confirms with (`POST /api/v1/erasures/{id}/confirm`);
    `event_id` is the webhook-id of the event that told it, which finds its deliveries.
    Kinds and times only, like the receipt it belongs to.
    """

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    receipt = models.ForeignKey(DeletionReceipt, on_delete=models.CASCADE, related_name="notices")
    brand = models.ForeignKey("accounts.Brand", on_delete=models.CASCADE, related_name="+")
    event_id = models.CharField(max_length=40, db_index=True)
    requested_at = models.DateTimeField()
    confirmed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["receipt", "brand__name"]
        constraints = [
            models.UniqueConstraint(fields=["receipt", "brand"], name="uniq_notice_brand")
        ]
        indexes = [models.Index(fields=["confirmed_at", "requested_at"])]

    def __str__(self) -> str:
        return f"notice {self.public_id} ({self.brand_id})"


class RetrainMark(models.Model):
    """A switch-off or a deletion waiting for, then answered by, a brand's model trained
    without it: what the choice history and the receipt show ("model of 30 Nov 18:02").

    No personal content and no direct link to the customer: it hangs off their choice
    (which goes with the account) or off a deletion receipt (kept as proof). Marked when a
    run of the brand that read its data after `requested_at` succeeds
    (transparency.retrains, on recommendations.signals.training_run_succeeded).
    """

    brand = models.ForeignKey("accounts.Brand", on_delete=models.CASCADE, related_name="+")
    choice = models.ForeignKey(
        "accounts.ConsentEvent",
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="retrain_marks",
    )
    receipt = models.ForeignKey(
        DeletionReceipt,
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="retrain_marks",
    )
    requested_at = models.DateTimeField()
    training_run = models.ForeignKey(
        "recommendations.TrainingRun",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    trained_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        indexes = [models.Index(fields=["brand", "trained_at"])]

    def __str__(self) -> str:
        state = f"trained {self.trained_at:%Y-%m-%d %H:%M}" if self.trained_at else "waiting"
        return f"retrain mark ({self.brand_id}, {state})"
