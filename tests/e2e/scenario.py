"""A customer with data in every registered kind, from two brands, over more than a year:
what the page walk, the deep-link and the stale-page tests look at."""

from dataclasses import dataclass
from datetime import timedelta
from decimal import Decimal

from django.db import transaction
from django.test import Client
from django.utils import timezone

from accounts.audit import Actor, audit_record
from accounts.models import Brand, Customer, CustomerBrand, Sensitivity
from accounts.services import brand_upsert, customer_create
from ledger.models import Event, Product
from ledger.services import product_upsert
from recommendations.services import demo_seed
from tests.factories import EventFactory, UserFactory
from tests.production.seeds import seed_every_kind
from transparency.management.commands.demo_data import CATALOG


@dataclass
class Scenario:
    customer: Customer
    brand: Brand
    events: list[Event]  # the customer's own activity with the brand, newest first
    bank: Brand | None = None


def shop(slug: str = "northwind", name: str = "Northwind Outfitters") -> Brand:
    brand = brand_upsert(slug=slug, name=name)
    for ext_id, product_name, category, price in CATALOG:
        product_upsert(
            brand=brand,
            external_id=ext_id,
            name=product_name,
            category=category,
            price=Decimal(price),
        )
    return brand


def customer_with_history(username: str = "maya", *, brand: Brand | None = None) -> Scenario:
    """Trained recommendations with reasons, 14 months of activity (some of it expiring within
    30 days, some switched off) and an order."""
    brand = brand or shop()
    customer = customer_create(user=UserFactory(username=username))
    CustomerBrand.objects.create(customer=customer, brand=brand, external_ref=f"{username}-nw")
    products = list(Product.objects.filter(brand=brand).order_by("pk"))
    now = timezone.now()
    for n in range(40):  # one every ~11 days, back to 14 months ago
        EventFactory(
            customer=customer,
            brand=brand,
            product=products[n % 4],  # four of twelve: the rest can be recommended
            kind="view" if n % 3 else "add_to_cart",
            source="observed",
            occurred_at=now - timedelta(days=11 * n + 3),
            in_use=n % 7 != 5,
        )
    demo_seed(brand=brand, customer=customer)
    events = list(Event.objects.filter(customer=customer, brand=brand).order_by("-pk"))
    return Scenario(customer=customer, brand=brand, events=events)


def customer_in_every_kind(username: str = "maya", *, staff=None) -> Scenario:
    """customer_with_history, plus one row of every registered kind, a second (banking) brand
    and accesses by others: a member of staff, a brand's systems, the retention sweep."""
    scenario = customer_with_history(username)
    seed_every_kind(scenario.customer)  # personalization explicitly allowed among them
    scenario.bank = brand_upsert(
        slug="harbor-bank", name="Harbor Bank", sensitivity=Sensitivity.BANKING
    )
    CustomerBrand.objects.create(
        customer=scenario.customer, brand=scenario.bank, external_ref=f"{username}-hb"
    )
    with transaction.atomic():
        if staff is not None:
            audit_record(
                actor=Actor.staff(staff),
                customer=scenario.customer,
                data_kind="address",
                action="view",
                reason="support ticket 4711",
            )
        audit_record(
            actor=Actor.brand(scenario.brand),
            customer=scenario.customer,
            data_kind="event",
            action="ingest",
            reason="3 events from the brand's feed",
        )
        audit_record(
            actor=Actor.system("transparency.retention_sweep"),
            customer=scenario.customer,
            data_kind="event",
            action="delete",
        )
    return scenario


def sign_in(context, base_url: str, user) -> None:
    """A signed-in session cookie for the browser (the customer may have MFA on)."""
    client = Client()
    client.force_login(user)
    cookie = client.cookies["sessionid"]
    context.add_cookies([{"name": "sessionid", "value": cookie.value, "url": base_url}])
