"""Reads for the ledger pages. Every query is scoped to one customer, with bounded joins."""

from __future__ import annotations

from dataclasses import dataclass

from django.core.paginator import Page, Paginator
from django.db.models import Exists, OuterRef, Prefetch, Q, QuerySet

from accounts.models import Brand, Customer, CustomerBrand

from .models import (
    Address,
    ContactPreference,
    Event,
    FactField,
    Order,
    OrderLine,
    PaymentMethod,
    PersonalFact,
)

# The brand's widget-token secret is encrypted and never needed on a customer page.
NO_SECRET = "brand__token_secret"

ORDERS_PER_PAGE = 20
EVENTS_PER_PAGE = 50


@dataclass(frozen=True)
class FactRow:
    field: str
    label: str
    fact: PersonalFact | None

    @property
    def value(self) -> str:
        return self.fact.value if self.fact else ""


def personal_facts(*, customer: Customer) -> list[FactRow]:
    facts = {
        f.field: f
        for f in PersonalFact.objects.filter(customer=customer)
        .select_related("brand")
        .defer(NO_SECRET)
    }
    return [FactRow(field=v, label=label, fact=facts.get(v)) for v, label in FactField.choices]


def addresses(*, customer: Customer) -> QuerySet[Address]:
    return Address.objects.filter(customer=customer).select_related("brand").defer(NO_SECRET)


def payment_methods(*, customer: Customer) -> QuerySet[PaymentMethod]:
    return PaymentMethod.objects.filter(customer=customer).select_related("brand").defer(NO_SECRET)


def customer_brands(*, customer: Customer) -> QuerySet[Brand]:
    """The brands the customer deals with: linked to them, or holding a preference of theirs."""
    linked = CustomerBrand.objects.filter(customer=customer).values("brand_id")
    prefs = ContactPreference.objects.filter(customer=customer, brand__isnull=False)
    brands = Brand.objects.filter(Q(pk__in=linked) | Q(pk__in=prefs.values("brand_id")))
    return brands.defer("token_secret").order_by("name")


@dataclass(frozen=True)
class ContactRow:
    brand: Brand | None
    pref: ContactPreference | None


def contact_preferences(*, customer: Customer) -> list[ContactRow]:
    """One row for every brand at once (brand None), then one per brand, by name."""
    prefs = {p.brand_id: p for p in ContactPreference.objects.filter(customer=customer)}
    brands = list(customer_brands(customer=customer))
    rows = [ContactRow(brand=None, pref=prefs.get(None))]
    rows += [ContactRow(brand=b, pref=prefs.get(b.pk)) for b in brands]
    return rows


def contact_brand(*, customer: Customer, brand_id: int) -> Brand | None:
    """One of the customer's brands by id; None for any other brand."""
    return customer_brands(customer=customer).filter(pk=brand_id).first()


def orders_page(*, customer: Customer, page: str | int | None) -> Page:
    """A page of orders with their lines and products: a fixed number of queries."""
    orders = (
        Order.objects.filter(customer=customer)
        .select_related("brand")
        .defer(NO_SECRET)
        .prefetch_related(
            Prefetch("lines", queryset=OrderLine.objects.select_related("product").order_by("pk"))
        )
        .order_by("-placed_at", "-id")
    )
    return Paginator(orders, ORDERS_PER_PAGE).get_page(page)


def order_row(*, customer: Customer, pk: int) -> Order | None:
    return (
        Order.objects.filter(customer=customer, pk=pk)
        .select_related("brand")
        .defer(NO_SECRET)
        .prefetch_related(
            Prefetch("lines", queryset=OrderLine.objects.select_related("product").order_by("pk"))
        )
        .first()
    )


def activity_brands(*, customer: Customer) -> QuerySet[Brand]:
    """Brands that recorded activity for the customer (the brand filter's choices).

    One EXISTS probe per brand rather than a scan of every event the customer has.
    """
    recorded = Event.objects.filter(customer=customer, brand_id=OuterRef("pk"))
    return Brand.objects.filter(Exists(recorded)).defer("token_secret").order_by("name")


def events_page(
    *,
    customer: Customer,
    page: str | int | None,
    brand: Brand | None = None,
    kind: str | None = None,
) -> Page:
    """A page of events, newest first, optionally for one brand and one kind."""
    events = Event.objects.filter(customer=customer)
    if brand is not None:
        events = events.filter(brand=brand)
    if kind:
        events = events.filter(kind=kind)
    events = events.select_related("brand", "product").defer(NO_SECRET)
    events = events.order_by("-occurred_at", "-id")
    return Paginator(events, EVENTS_PER_PAGE).get_page(page)
