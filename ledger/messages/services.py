"""Writes for messages: a brand's batch, the one-click unsubscribe, and `data.updated`.

`messages_create` is all-or-nothing like ingest: every item is checked (schema in the API,
references and destinations here) before anything is written, then the rows and one audit
row per customer are written in one transaction with bulk statements. Candor decides each
message's channel and time (decide.py) at that moment; the dispatcher sends what is due.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime

from django.db import IntegrityError, transaction
from django.utils import timezone

from accounts import outbox
from accounts.audit import Actor, AuditEntry, audit_record, audit_record_many
from accounts.consent_history import consent_event_record
from accounts.keys import tombstone_digest
from accounts.locks import customer_lock, customers_lock
from accounts.models import (
    Brand,
    Customer,
    CustomerBrand,
    ErasureTombstone,
    WebhookEventType,
)
from accounts.webhooks import webhook_emit

from ..ingest_batch import IngestRejected, ItemError
from ..models import ContactPreference, Order, Source
from . import selectors
from .decide import decide
from .models import Destination, Message, MessageState

DISPATCH_TASK = "ledger.messages_dispatch"


@dataclass
class CreateResult:
    stored: int = 0
    duplicates: int = 0
    dropped: int = 0
    items: list[dict] = field(default_factory=list)


def _iso(moment: datetime) -> str:
    return moment.isoformat().replace("+00:00", "Z")


def _erased(brand: Brand, refs: set[str]) -> set[str]:
    by_digest = {tombstone_digest(brand.pk, ref): ref for ref in refs}
    found = ErasureTombstone.objects.filter(brand=brand, ref_digest__in=by_digest)
    return (
        {by_digest[d] for d in found.values_list("ref_digest", flat=True)} if by_digest else set()
    )


def messages_create(*, brand: Brand, items: Sequence, now: datetime | None = None) -> CreateResult:
    for attempt in range(2):  # a concurrent delivery of the same ids: the second run counts them
        try:
            with transaction.atomic():
                return _create(brand, items, now or timezone.now())
        except IntegrityError:
            if attempt:
                raise
    raise AssertionError("unreachable")


def _create(brand: Brand, items: Sequence, now: datetime) -> CreateResult:
    ids, erased = _customers(brand, items)
    _validate(brand, items, ids, erased)
    result, fresh = _sort_out(brand, items, erased)
    rows = _decided_rows(brand, fresh, ids, now)
    Message.objects.bulk_create(rows)
    audit_record_many(
        actor=Actor.brand(brand),
        entries=[
            AuditEntry(
                customer_id=cid,
                data_kind="message",
                action="ingest",
                reason=f"{n} message{'' if n == 1 else 's'} for you",
            )
            for cid, n in sorted(Counter(r.customer_id for r in rows).items())
        ],
    )
    for row in rows:
        result.items.append(
            {
                "external_id": row.external_id,
                "state": row.state,
                "channel": row.channel,
                "due_at": _iso(row.due_at) if row.due_at else None,
            }
        )
    result.stored = len(rows)
    if any(
        r.state == MessageState.SCHEDULED and r.due_at is not None and r.due_at <= now for r in rows
    ):
        outbox.enqueue(task=DISPATCH_TASK, kwargs={}, dedupe_key="messages:dispatch")
    return result


def _customers(brand: Brand, items: Sequence) -> tuple[dict[str, int], set[str]]:
    """(customer ref -> id, for customers still here; refs of erased customers)."""
    refs = {i.customer_ref for i in items}
    ids = dict(
        CustomerBrand.objects.filter(brand=brand, external_ref__in=refs).values_list(
            "external_ref", "customer_id"
        )
    )
    alive = customers_lock(ids.values())  # an erasure running now finishes first
    erased = {r for r, cid in ids.items() if cid not in alive} | _erased(brand, refs - ids.keys())
    ids = {r: cid for r, cid in ids.items() if cid in alive}
    return ids, erased


def _validate(brand: Brand, items: Sequence, ids: dict[str, int], erased: set[str]) -> None:
    """All-or-nothing: every unknown customer or order reference rejects the batch."""
    orders = {
        (cid, ext)
        for cid, ext in Order.objects.filter(
            brand=brand,
            customer_id__in=ids.values(),
            external_id__in={i.action.ref for i in items if i.action and i.action.ref},
        ).values_list("customer_id", "external_id")
    }
    errors = []
    for index, item in enumerate(items):
        if item.customer_ref not in ids and item.customer_ref not in erased:
            errors.append(ItemError(index, "customer_ref", "unknown customer reference"))
        elif item.action and item.action.destination == Destination.ORDER:
            if not item.action.ref:
                errors.append(ItemError(index, "action.ref", "an order destination needs ref"))
            elif (
                item.customer_ref in ids and (ids[item.customer_ref], item.action.ref) not in orders
            ):
                errors.append(ItemError(index, "action.ref", "no such order for this customer"))
    if errors:
        raise IngestRejected(errors[:20])


def _sort_out(brand: Brand, items: Sequence, erased: set[str]) -> tuple[CreateResult, list]:
    """Erased customers' items are dropped, ids seen before are duplicates, the rest new."""
    existing = set(
        Message.objects.filter(
            brand=brand, external_id__in={i.external_id for i in items}
        ).values_list("external_id", flat=True)
    )
    result = CreateResult()
    fresh, seen = [], set(existing)
    for item in items:
        if item.customer_ref in erased:
            result.dropped += 1
            result.items.append({"external_id": item.external_id, "state": "dropped"})
        elif item.external_id in seen:
            result.duplicates += 1
            result.items.append({"external_id": item.external_id, "state": "duplicate"})
        else:
            seen.add(item.external_id)
            fresh.append(item)
    return result, fresh


def _decided_rows(brand: Brand, fresh: list, ids: dict[str, int], now: datetime) -> list[Message]:
    """One Message per new item, its channel and time decided from the customer's reach."""
    reach = {
        category: selectors.reaches(
            brand=brand,
            customer_ids={ids[i.customer_ref] for i in fresh if i.category == category},
            category=category,
        )
        for category in {i.category for i in fresh}
    }
    rows = []
    for item in fresh:
        cid = ids[item.customer_ref]
        decision = decide(reach=reach[item.category][cid], now=now)
        rows.append(
            Message(
                customer_id=cid,
                brand=brand,
                external_id=item.external_id,
                category=item.category,
                subject=item.subject,
                body=item.body,
                action_label=item.action.label if item.action else "",
                action_destination=item.action.destination if item.action else "",
                action_ref=(item.action.ref or "") if item.action else "",
                channel=decision.channel,
                state=decision.state,
                due_at=decision.due_at,
                why_channel=decision.why_channel,
                why_time=decision.why_time,
                data_used=list(decision.data_used),
                outcome="" if decision.state == MessageState.SCHEDULED else decision.why_channel,
            )
        )
    return rows


# --- one-click unsubscribe (RFC 8058) ---------------------------------------------------------


@transaction.atomic
def marketing_unsubscribe(*, message: Message, via: str = "email") -> bool:
    """Switch "Contacting you" off for the message's brand, for marketing. Audited, in the
    consent history, told to the brand (consent.changed). False when it already was off."""
    customer_lock(message.customer_id)
    customer = Customer.objects.get(pk=message.customer_id)
    brand = message.brand
    pref = (
        ContactPreference.objects.select_for_update().filter(customer=customer, brand=brand).first()
    )
    if pref is not None and not pref.marketing_allowed:
        return False
    if pref is None:  # keep what applied before (the every-brand row), only marketing changes
        base = ContactPreference.objects.filter(customer=customer, brand__isnull=True).first()
        pref = ContactPreference.objects.create(
            customer=customer,
            brand=brand,
            source=Source.PROVIDED,
            channel=base.channel if base else "email",
            quiet_start=base.quiet_start if base else None,
            quiet_end=base.quiet_end if base else None,
            best_hour_override=base.best_hour_override if base else None,
            time_zone=base.time_zone if base else "",
            marketing_allowed=False,
        )
    else:
        pref.marketing_allowed = False
        pref.save(update_fields=["marketing_allowed", "updated_at"])
    reason = f"stopped marketing from {brand.name} (one-click unsubscribe)"
    audit_record(
        actor=Actor.customer(customer),
        customer=customer,
        data_kind="contact_preference",
        action="update",
        object_ref=str(pref.pk),
        reason=reason,
    )
    marketing_choice_told(customer=customer, brand=brand, allowed=False, via=via)
    return True


def marketing_choice_told(*, customer: Customer, brand: Brand, allowed: bool, via: str) -> None:
    """Marketing from one brand switched on or off: consent history, and `consent.changed`
    (purpose `contact`, scope `brand`) to that brand. Inside the change's transaction."""
    consent_event_record(  # the hash-chained history's one writer
        customer_id=customer.pk,
        purpose="contact",
        object_ref=f"brand:{brand.pk}",
        granted=allowed,
        channel=via,
        actor_label="you",
    )
    refs = CustomerBrand.objects.filter(customer=customer, brand=brand).values_list(
        "external_ref", flat=True
    )
    for external_ref in refs:
        webhook_emit(
            brand_id=brand.pk,
            customer_ref=external_ref,
            event_type=WebhookEventType.CONSENT_CHANGED,
            data={
                "purpose": "contact",
                "allowed": allowed,
                "scope": "brand",
                "at": _iso(timezone.now()),
            },
        )


# --- data.updated -------------------------------------------------------------------------------


def data_updated(*, customer_id: int, kind: str) -> None:
    """Tell each connected brand the customer changed `kind` (no values): the brand reads the
    new details through GET /api/v1/customers/{ref}. Call inside the change's transaction."""
    at = _iso(timezone.now())
    for brand_id, ref in CustomerBrand.objects.filter(customer_id=customer_id).values_list(
        "brand_id", "external_ref"
    ):
        webhook_emit(
            brand_id=brand_id,
            customer_ref=ref,
            event_type=WebhookEventType.DATA_UPDATED,
            data={"kind": kind, "at": at},
        )
