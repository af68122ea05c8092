"""What a brand hears: the customer's choices as webhook events, and its confirmations.

transparency.services calls these inside the transaction of the change, so an event goes
out exactly when the change commits (accounts.webhooks). Every event names the customer by
the brand's own reference and says which kinds, flags and the brand's own external ids;
never a value. Deletions and erasures leave an ErasureNotice per brand told, which the
brand confirms with its server key and the customer's receipt shows.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import Count, OuterRef, Subquery
from django.utils import timezone

from accounts.audit import Actor, audit_record
from accounts.models import (
    Brand,
    Customer,
    CustomerBrand,
    DeliveryState,
    WebhookDelivery,
    WebhookEventType,
)
from accounts.webhooks import Outgoing, webhook_emit, webhook_event_id, webhooks_emit

from .models import DeletionReceipt, ErasureNotice

# A deletion names at most this many of the brand's external ids per kind; past that the
# payload says the list is incomplete (a whole kind or brand went: `scope` says which).
MAX_EXTERNAL_IDS = 1000


def iso(moment: datetime) -> str:
    """A time as the webhooks carry it (RFC 3339, UTC, Z)."""
    return moment.isoformat().replace("+00:00", "Z")


def customer_links(customer_id: int) -> dict[int, str]:
    """{brand id: the brand's reference} for every brand the customer is connected to."""
    return dict(
        CustomerBrand.objects.filter(customer_id=customer_id).values_list(
            "brand_id", "external_ref"
        )
    )


def consent_changed(*, customer: Customer, purpose: str, granted: bool) -> None:
    at = iso(timezone.now())
    for brand_id, ref in customer_links(customer.pk).items():
        webhook_emit(
            brand_id=brand_id,
            customer_ref=ref,
            event_type=WebhookEventType.CONSENT_CHANGED,
            data={"purpose": purpose, "allowed": granted, "at": at},
        )


def kind_use_changed(*, customer: Customer, kind_name: str, in_use: bool) -> None:
    at = iso(timezone.now())
    for brand_id, ref in customer_links(customer.pk).items():
        webhook_emit(
            brand_id=brand_id,
            customer_ref=ref,
            event_type=WebhookEventType.DATA_USE_CHANGED,
            data={"kind": kind_name, "external_id": None, "in_use": in_use, "at": at},
        )


def point_use_changed(*, customer: Customer, kind, pk: int, in_use: bool) -> None:
    """Told to the brand that sent the point, by the brand's own id for it."""
    if not kind.brand_field or not kind.external_id_field:
        return  # not something a brand sent under its own id
    row = (
        kind.rows_for(customer)
        .filter(pk=pk)
        .values_list(kind.brand_field, kind.external_id_field)
        .first()
    )
    if row is None or row[0] is None or not row[1]:
        return
    ref = customer_links(customer.pk).get(row[0])
    if ref is None:
        return
    webhook_emit(
        brand_id=row[0],
        customer_ref=ref,
        event_type=WebhookEventType.DATA_USE_CHANGED,
        data={
            "kind": kind.name,
            "external_id": row[1],
            "in_use": in_use,
            "at": iso(timezone.now()),
        },
    )


@dataclass
class DeletionSummary:
    """What a deletion is about to remove, per connected brand, read before the rows go
    (the deletion may end the connection itself)."""

    links: dict[int, str]  # brand id -> the brand's reference
    kinds: dict[int, dict[str, dict]] = field(default_factory=lambda: defaultdict(dict))


def deletion_summary(*, customer: Customer, plan: list[tuple]) -> DeletionSummary:
    """{kind: {"count", "external_ids", "external_ids_complete"}} per connected brand, a
    bounded number of queries per kind whatever the data size."""
    summary = DeletionSummary(links=customer_links(customer.pk))
    if not summary.links:
        return summary
    for kind, qs in plan:
        if not kind.brand_field:
            continue
        per_brand = qs.order_by().values_list(kind.brand_field).annotate(n=Count("pk"))
        for brand_id, n in per_brand.values_list(kind.brand_field, "n"):
            if brand_id in summary.links and n:
                entry = summary.kinds[brand_id][kind.name] = {"count": n}
                if kind.external_id_field:
                    _add_external_ids(entry, kind, qs, brand_id)
    return summary


def _add_external_ids(entry: dict, kind, qs, brand_id: int) -> None:
    ids = list(
        qs.filter(**{kind.brand_field: brand_id, f"{kind.external_id_field}__isnull": False})
        .order_by()
        .values_list(kind.external_id_field, flat=True)[: MAX_EXTERNAL_IDS + 1]
    )
    entry["external_ids"] = sorted(ids[:MAX_EXTERNAL_IDS])
    entry["external_ids_complete"] = len(ids) <= MAX_EXTERNAL_IDS


def data_deleted(*, receipt: DeletionReceipt, summary: DeletionSummary, scope: str) -> None:
    """`data.deleted` to each connected brand whose data went, with a notice to confirm."""
    data_deleted_many([(receipt, summary)], scope=scope)


def data_deleted_many(
    deletions: Iterable[tuple[DeletionReceipt, DeletionSummary]], *, scope: str
) -> None:
    """:func:`data_deleted` for many receipts at once (a retention sweep): the notices and
    the deliveries are written in bulk, a fixed number of statements for any number."""
    notices: list[ErasureNotice] = []
    events: list[Outgoing] = []
    for receipt, summary in deletions:
        for brand_id, kinds in sorted(summary.kinds.items()):
            notice = _notice(receipt, brand_id)
            notices.append(notice)
            data = {
                "erasure_id": str(notice.public_id),
                "scope": scope,
                "kinds": kinds,
                "deleted_at": iso(receipt.completed_at or receipt.requested_at),
            }
            events.append(
                Outgoing(
                    brand_id,
                    summary.links[brand_id],
                    WebhookEventType.DATA_DELETED,
                    data,
                    notice.event_id,
                )
            )
    ErasureNotice.objects.bulk_create(notices, batch_size=1000)
    webhooks_emit(events)


def customer_erased(*, receipt: DeletionReceipt, links: dict[int, str]) -> None:
    """`customer.erased` to every brand the account was connected to."""
    notices = [_notice(receipt, brand_id) for brand_id in sorted(links)]
    ErasureNotice.objects.bulk_create(notices)
    webhooks_emit(
        Outgoing(
            notice.brand_id,
            links[notice.brand_id],
            WebhookEventType.CUSTOMER_ERASED,
            {
                "erasure_id": str(notice.public_id),
                "erased_at": iso(receipt.completed_at or receipt.requested_at),
            },
            notice.event_id,
        )
        for notice in notices
    )


def _notice(receipt: DeletionReceipt, brand_id: int) -> ErasureNotice:
    """An unsaved notice to the brand (its callers write theirs in bulk)."""
    return ErasureNotice(
        receipt=receipt,
        brand_id=brand_id,
        event_id=webhook_event_id(),
        requested_at=receipt.requested_at,
    )


# --- the brand's confirmation ----------------------------------------------------------------


@transaction.atomic
def erasure_confirm(*, brand: Brand, public_id) -> ErasureNotice:
    """The brand says it deleted on its side too. Idempotent: the first time is kept.
    Another brand's notice does not exist for this brand (DoesNotExist)."""
    notice = (
        ErasureNotice.objects.select_for_update()
        .select_related("receipt")
        .get(public_id=public_id, brand=brand)
    )
    if notice.confirmed_at is None:
        notice.confirmed_at = timezone.now()
        ErasureNotice.objects.filter(pk=notice.pk).update(confirmed_at=notice.confirmed_at)
        audit_record(
            actor=Actor.brand(brand),
            customer=notice.receipt.customer,
            data_kind="deletion_receipt",
            action="confirm",
            object_ref=str(notice.receipt.public_id),
            reason=f"{brand.name} confirmed it deleted the data on its side",
        )
    return notice


def receipt_notices(*, receipt: DeletionReceipt, names: bool) -> list[dict]:
    """Per brand told: requested, delivered (first delivery to any of its endpoints) and
    confirmed times. Brand names only when `names` (the signed-in owner): one query."""
    first_delivery = (
        WebhookDelivery.objects.filter(
            event_id=OuterRef("event_id"),
            endpoint__brand=OuterRef("brand"),
            state=DeliveryState.DELIVERED,
        )
        .order_by("delivered_at")
        .values("delivered_at")[:1]
    )
    rows = (
        ErasureNotice.objects.filter(receipt=receipt)
        .annotate(delivered_at=Subquery(first_delivery))
        .values("brand__name", "requested_at", "delivered_at", "confirmed_at")
        .order_by("brand__name", "pk")
    )
    return [
        {
            "brand": row["brand__name"] if names else f"Brand {i}",
            "requested_at": row["requested_at"],
            "delivered_at": row["delivered_at"],
            "confirmed_at": row["confirmed_at"],
        }
        for i, row in enumerate(rows, start=1)
    ]


def unconfirmed_since() -> datetime:
    """Deletions requested before this and still not confirmed are shown to staff."""
    return timezone.now() - timedelta(days=settings.ERASURE_CONFIRMATION_DAYS)
