"""The data subject request console: deadlines, extensions, state, brand confirmations.

GDPR Art. 12(3): a request is answered within one month of receipt, extendable once by up
to two further months when it is complex or numerous, with the reason told. Exports and
erasures are self-service and done at once; access and correction requests that reach
staff (by mail, by phone) are logged here and worked through. Every staff action is an
audited service (written to the customer's access log, which the customer reads).
"""

from __future__ import annotations

import csv
import io
import math
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.db import transaction
from django.utils import timezone

from accounts.audit import Actor, audit_record
from accounts.locks import customers_lock
from accounts.models import Customer

from ..models import DataRequest, DataRequestKind, DataRequestState, ErasureNotice, add_months

SOON_DAYS = 7  # "due soon" below this many days left
MAX_EXTENSION_MONTHS = 2


class DsrRefused(ValueError):
    """A staff action the rules do not allow (the message says why)."""


# --- services -------------------------------------------------------------------------------


def _audit(request: DataRequest, *, staff, action: str, reason: str) -> None:
    audit_record(
        actor=Actor.staff(staff),
        customer=request.customer,
        data_kind="data_request",
        action=action,
        object_ref=f"request {request.pk}",
        reason=reason,
    )


def _locked(request_id: int) -> DataRequest:
    request = DataRequest.objects.select_for_update().get(pk=request_id)
    if request.customer_id is not None:
        customers_lock([request.customer_id])
    return request


@transaction.atomic
def dsr_create(
    *, customer: Customer, kind: str, staff, received_at: datetime | None = None
) -> DataRequest:
    """Log a request that reached staff; its deadline runs from when it was received."""
    if kind not in (DataRequestKind.ACCESS, DataRequestKind.CORRECTION):
        raise DsrRefused("Exports and erasures are made by the customer on My data.")
    if not customers_lock([customer.pk]):
        raise DsrRefused("The account was erased.")
    request = DataRequest.objects.create(
        customer=customer, kind=kind, received_at=received_at or timezone.now()
    )
    _audit(request, staff=staff, action="request_logged", reason=request.get_kind_display())
    return request


@transaction.atomic
def dsr_extend(*, request_id: int, staff, until: datetime, reason: str) -> DataRequest:
    request = _locked(request_id)
    reason = reason.strip()
    if request.state == DataRequestState.DONE:
        raise DsrRefused("The request is already done.")
    if request.extended_until is not None:
        raise DsrRefused("A deadline can be extended only once (GDPR Art. 12(3)).")
    if not reason:
        raise DsrRefused("An extension needs a reason; the customer is told it.")
    latest = add_months(request.deadline, MAX_EXTENSION_MONTHS)
    if not request.deadline < until <= latest:
        raise DsrRefused(
            f"The new deadline must be after {request.deadline:%d %b %Y} and no later than "
            f"{latest:%d %b %Y} (two further months at most)."
        )
    request.extended_until, request.extension_reason = until, reason[:300]
    request.extended_at = timezone.now()
    request.save(update_fields=["extended_until", "extension_reason", "extended_at"])
    _audit(request, staff=staff, action="extend", reason=f"until {until:%d %b %Y}: {reason}")
    return request


@transaction.atomic
def dsr_set_state(*, request_id: int, staff, state: str) -> bool:
    request = _locked(request_id)
    if state not in DataRequestState.values:
        raise DsrRefused(f"Unknown state {state!r}.")
    if request.state == state:
        return False
    request.state = state
    request.completed_at = timezone.now() if state == DataRequestState.DONE else None
    request.save(update_fields=["state", "completed_at"])
    _audit(request, staff=staff, action=f"request_{state}", reason=request.get_kind_display())
    return True


# --- selectors ------------------------------------------------------------------------------


def days_left(request: DataRequest, now: datetime) -> int:
    """Whole days to the deadline in force (negative: overdue by that many)."""
    return math.floor((request.due - now) / timedelta(days=1))


def urgency(request: DataRequest, now: datetime) -> str:
    if request.state == DataRequestState.DONE:
        return "done"
    left = days_left(request, now)
    return "overdue" if request.due < now else "soon" if left < SOON_DAYS else "ok"


@dataclass
class Row:
    request: DataRequest
    days_left: int | None
    urgency: str
    confirmations: str  # brand confirmations of an erasure: "2 of 3 brands", "" if none asked


def _confirmations(receipt_ids: list[int]) -> dict[int, str]:
    by_receipt: dict[int, list[bool]] = {}
    for receipt_id, confirmed in ErasureNotice.objects.filter(
        receipt_id__in=receipt_ids
    ).values_list("receipt_id", "confirmed_at"):
        by_receipt.setdefault(receipt_id, []).append(confirmed is not None)
    return {
        rid: f"{sum(flags)} of {len(flags)} brand{'s' if len(flags) != 1 else ''} confirmed"
        for rid, flags in by_receipt.items()
    }


def dsr_rows(*, now: datetime | None = None, state: str = "", limit: int = 500) -> list[Row]:
    now = now or timezone.now()
    qs = DataRequest.objects.select_related("customer").order_by("state", "deadline", "pk")
    if state:
        qs = qs.filter(state=state)
    requests = list(qs[:limit])
    told = _confirmations([r.receipt_id for r in requests if r.receipt_id])
    return [
        Row(
            request=r,
            days_left=None if r.state == DataRequestState.DONE else days_left(r, now),
            urgency=urgency(r, now),
            confirmations=told.get(r.receipt_id, "") if r.receipt_id else "",
        )
        for r in requests
    ]


def _percentile(sorted_values: list[float], q: float) -> float:
    """Nearest-rank percentile (no interpolation: a value that actually occurred)."""
    rank = max(1, math.ceil(q * len(sorted_values)))
    return sorted_values[rank - 1]


def dsr_stats() -> dict:
    """Median and 95th percentile time to complete, in hours, per kind and overall."""
    done = DataRequest.objects.filter(
        state=DataRequestState.DONE, completed_at__isnull=False
    ).values_list("kind", "received_at", "completed_at")
    hours: dict[str, list[float]] = {}
    for kind, received, completed in done.iterator():
        taken = max((completed - received) / timedelta(hours=1), 0.0)
        hours.setdefault(kind, []).append(taken)
        hours.setdefault("all", []).append(taken)
    stats = {}
    for kind, values in hours.items():
        values.sort()
        stats[kind] = {
            "count": len(values),
            "median_hours": round(_percentile(values, 0.5), 2),
            "p95_hours": round(_percentile(values, 0.95), 2),
        }
    return stats


CSV_HEADER = [
    "id",
    "kind",
    "state",
    "received_at",
    "deadline",
    "extended_until",
    "extension_reason",
    "completed_at",
    "days_left",
    "urgency",
    "brand_confirmations",
    "customer",
]


def dsr_csv(*, now: datetime | None = None) -> str:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(CSV_HEADER)
    for row in dsr_rows(now=now, limit=100_000):
        r = row.request
        writer.writerow(
            [
                r.pk,
                r.kind,
                r.state,
                r.received_at.isoformat(),
                r.deadline.isoformat(),
                r.extended_until.isoformat() if r.extended_until else "",
                r.extension_reason,
                r.completed_at.isoformat() if r.completed_at else "",
                "" if row.days_left is None else row.days_left,
                row.urgency,
                row.confirmations,
                r.customer.public_id if r.customer else "erased",
            ]
        )
    return out.getvalue()
