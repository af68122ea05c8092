"""Writes caused by the widget: impressions, clicks and "don't use this" from a token holder.

Callers must already have checked the token and the personalization purpose
(`auth.personalization_holder`); anonymous visitors never reach this module.
"""

from __future__ import annotations

from datetime import datetime

from django.db import transaction
from django.utils import timezone

from accounts.audit import Actor
from accounts.locks import customers_lock
from accounts.models import Brand, Customer, KindSetting
from ledger.events import events_create
from ledger.models import Event, EventKind, Product, Source
from recommendations import services

WIDGET_EVENT_KINDS = {
    "impression": EventKind.WIDGET_IMPRESSION,
    "click": EventKind.WIDGET_CLICK,
    "not_interested": EventKind.NOT_INTERESTED,
}
MAX_PRODUCTS_PER_EVENT = 20


def _impression_ref(customer: Customer, product_id: int, now: datetime) -> str:
    # One impression per customer, product and hour: (brand, external_id) is unique, so a
    # page reload or two tabs cannot inflate the count, even concurrently.
    return f"candor-widget:imp:{customer.pk}:{product_id}:{now:%Y%m%d%H}"


def _rows(
    *, customer: Customer, brand: Brand, kind: EventKind, product_ids: list[int]
) -> list[Event]:
    """The events to store: impressions already recorded this hour are left out."""
    now = timezone.now()
    rows = [
        Event(
            customer=customer,
            brand=brand,
            source=Source.OBSERVED,
            kind=kind,
            product_id=product_id,
            external_id=(
                _impression_ref(customer, product_id, now)
                if kind == EventKind.WIDGET_IMPRESSION
                else None
            ),
            occurred_at=now,
        )
        for product_id in product_ids
    ]
    if kind == EventKind.WIDGET_IMPRESSION:
        seen = set(
            Event.objects.filter(
                brand=brand, external_id__in=[r.external_id for r in rows]
            ).values_list("external_id", flat=True)
        )
        rows = [r for r in rows if r.external_id not in seen]
    return rows


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
    rows = _rows(customer=customer, brand=brand, kind=event_kind, product_ids=products)
    label = event_kind.label.lower()
    return events_create(
        events=rows,
        actor=Actor.brand(brand, via="widget"),
        describe=lambda n: f"{n} {label} event(s) from the widget",
        ignore_conflicts=True,
    )
