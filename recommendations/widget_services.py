"""Writes caused by the widget: impressions, clicks and "don't use this" from a token holder.

Callers must already have checked the token and the personalization purpose
(`widget_auth.personalization_holder`); anonymous visitors never reach this module.
"""

from __future__ import annotations

from django.db import transaction
from django.utils import timezone

from accounts.audit import Actor, audit_record
from accounts.locks import customers_lock
from accounts.models import Brand, Customer, KindSetting
from ledger.models import Event, EventKind, Product, Source

from . import services

WIDGET_EVENT_KINDS = {
    "impression": EventKind.WIDGET_IMPRESSION,
    "click": EventKind.WIDGET_CLICK,
    "not_interested": EventKind.NOT_INTERESTED,
}
MAX_PRODUCTS_PER_EVENT = 20


def _impression_ref(customer: Customer, product_id: int, now) -> str:
    # One impression per customer, product and hour: (brand, external_id) is unique, so a
    # page reload or two tabs cannot inflate the count, even concurrently.
    return f"candor-widget:imp:{customer.pk}:{product_id}:{now:%Y%m%d%H}"


@transaction.atomic
def widget_events_record(
    *, customer: Customer, brand: Brand, kind: str, product_ids: list[int]
) -> int:
    """Record widget events for the brand's own products; returns how many were recorded.

    Products of another brand (or unknown ids) are ignored. Nothing is stored when the
    customer switched their activity off ("keep but don't use" on the event kind), or when
    their account was erased while the request was on its way (the customer's lock,
    accounts.locks); `customer` needs only its id.
    """
    event_kind = WIDGET_EVENT_KINDS[kind]
    if not customers_lock([customer.pk]):
        return 0
    if KindSetting.objects.filter(customer=customer, data_kind="event", in_use=False).exists():
        return 0
    wanted = list(dict.fromkeys(int(p) for p in product_ids))[:MAX_PRODUCTS_PER_EVENT]
    products = list(
        Product.objects.filter(brand=brand, pk__in=wanted, active=True).values_list("pk", flat=True)
    )
    if not products:
        return 0
    if event_kind == EventKind.NOT_INTERESTED:
        # The customer's own choice: the recommendation layer records the event (audited as
        # theirs), hides the item at once and asks for a recompute.
        customer = Customer.objects.get(pk=customer.pk)  # locked above: still there
        for product_id in products:
            services.not_interested_record(customer=customer, product_id=product_id)
        return len(products)
    now = timezone.now()
    rows = []
    for product_id in products:
        external_id = None
        if event_kind == EventKind.WIDGET_IMPRESSION:
            external_id = _impression_ref(customer, product_id, now)
        rows.append(
            Event(
                customer=customer,
                brand=brand,
                source=Source.OBSERVED,
                kind=event_kind,
                product_id=product_id,
                external_id=external_id,
                occurred_at=now,
            )
        )
    if event_kind == EventKind.WIDGET_IMPRESSION:
        seen = set(
            Event.objects.filter(
                brand=brand, external_id__in=[r.external_id for r in rows]
            ).values_list("external_id", flat=True)
        )
        rows = [r for r in rows if r.external_id not in seen]
        if not rows:
            return 0
    Event.objects.bulk_create(rows, ignore_conflicts=True)
    audit_record(
        actor=Actor.brand(brand, via="widget"),
        customer=customer,
        data_kind="event",
        action="create",
        reason=f"{len(rows)} {event_kind.label.lower()} event(s) from the widget",
    )
    return len(rows)
