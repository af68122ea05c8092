"""Demo and benchmark data: MovieLens 100k through the ledger, and the demo shop's history.

Both loaders are idempotent (a second run adds nothing and audits nothing). Events go
through ``ledger.events.events_create`` like every other event, audited per customer.
"""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np
from django.contrib.auth import get_user_model
from django.db import transaction
from django.utils import timezone

from accounts.audit import Actor, audit_record
from accounts.models import Brand, Customer, CustomerBrand
from accounts.services import brand_upsert
from ledger.events import events_create
from ledger.models import Event, EventKind, Order, OrderLine, Product, Source

from .models import TrainingRun
from .training.run import train_brand


def movielens_load(*, directory: Path, brand_slug: str = "movielens-demo") -> dict[str, int]:
    """Load ML-100k (recbole's copy) as rating events of a demo brand, in bulk; idempotent.

    Each MovieLens user becomes a customer (no usable password) linked to the brand; each
    rating an Event(kind="rating") with its timestamp; one audit row per customer.
    """
    inter = np.loadtxt(directory / "ml-100k.inter", delimiter="\t", skiprows=1, dtype=str)
    items = [
        line.rstrip("\n").split("\t")
        for line in (directory / "ml-100k.item").read_text(encoding="latin-1").splitlines()[1:]
    ]
    with transaction.atomic():
        brand = brand_upsert(slug=brand_slug, name="MovieLens demo")
        products = _movies_create(brand, items)
        by_raw = _movielens_customers(brand, sorted(set(inter[:, 0].tolist()), key=int))
        before = Event.objects.filter(brand=brand).count()
        stored = (
            set(Event.objects.filter(brand=brand).values_list("external_id", flat=True))
            if before
            else set()
        )
        events = [
            Event(
                customer_id=by_raw[u],
                brand=brand,
                source=Source.OBSERVED,
                external_id=f"ml-{u}-{i}",
                kind=EventKind.RATING,
                product_id=products[i],
                value=float(r),
                occurred_at=datetime.fromtimestamp(float(t), tz=UTC),
            )
            for u, i, r, t in inter.tolist()
            if f"ml-{u}-{i}" not in stored  # already loaded: no event, no audit row again
        ]
        events_create(
            events=events,
            actor=dataclasses.replace(Actor.system("load_movielens"), brand_id=brand.pk),
            describe=lambda n: "MovieLens demo ratings",
            ignore_conflicts=True,
            batch_size=5000,
        )
        added = Event.objects.filter(brand=brand).count() - before
    return {"brand_id": brand.pk, "customers": len(by_raw), "events_added": added}


def _movies_create(brand: Brand, items: list[list[str]]) -> dict[str, int]:
    """The movies as the brand's products; returns product id by MovieLens item id."""
    Product.objects.bulk_create(
        [
            Product(
                brand=brand,
                external_id=row[0],
                name=(row[1] or f"Movie {row[0]}")[:200],
                category=(row[3].split(" ")[0] if len(row) > 3 else "")[:100],
            )
            for row in items
        ],
        ignore_conflicts=True,
        batch_size=2000,
    )
    return dict(Product.objects.filter(brand=brand).values_list("external_id", "pk"))


def _movielens_customers(brand: Brand, raw_users: list[str]) -> dict[str, int]:
    """A customer per MovieLens user, linked to the brand; returns customer id by user id.

    Not through ``accounts.services.brand_customers_create``: MovieLens users have fixed
    usernames (``ml-N``) so that a second load finds the same people, and 943 of them are
    created in a few bulk statements, idempotently (ignore_conflicts)."""
    User = get_user_model()
    User.objects.bulk_create(
        [User(username=f"ml-{u}", password="!") for u in raw_users],  # unusable password
        ignore_conflicts=True,
        batch_size=2000,
    )
    users = dict(User.objects.filter(username__startswith="ml-").values_list("username", "pk"))
    Customer.objects.bulk_create(
        [Customer(user_id=users[f"ml-{u}"]) for u in raw_users],
        ignore_conflicts=True,
        batch_size=2000,
    )
    customers = dict(
        Customer.objects.filter(user_id__in=users.values()).values_list("user_id", "pk")
    )
    by_raw = {u: customers[users[f"ml-{u}"]] for u in raw_users}
    CustomerBrand.objects.bulk_create(
        [CustomerBrand(customer_id=c, brand=brand, external_ref=u) for u, c in by_raw.items()],
        ignore_conflicts=True,
        batch_size=2000,
    )
    return by_raw


# Demo shoppers' tastes (catalog external ids) and the demo customer's own history.
DEMO_SHOPPERS = {
    "runner": ["trail-runner", "trail-socks", "water-bottle", "merino-tee", "daypack"],
    "hiker": ["hiking-boot", "trail-socks", "daypack", "headlamp", "rain-shell"],
    "camper": ["headlamp", "camp-mug", "down-vest", "flannel-shirt", "water-bottle"],
    "city": ["city-sneaker", "merino-tee", "flannel-shirt", "rain-shell"],
}
DEMO_HISTORY = [
    ("view", "trail-runner", 2),
    ("add_to_cart", "trail-socks", 2),
    ("view", "daypack", 5),
]
DEMO_ORDER = ("demo-order-1", "hiking-boot", 12)


def demo_seed(*, brand: Brand, customer: Customer) -> TrainingRun | None:
    """Idempotent demo history (a few anonymous demo shoppers, the demo customer's views,
    cart and one order) and a first training run, so the demo shows real recommendations."""
    catalog = {
        ext: (pk, price)
        for ext, pk, price in Product.objects.filter(brand=brand).values_list(
            "external_id", "pk", "price"
        )
    }
    products = {ext: pk for ext, (pk, _) in catalog.items()}
    now = timezone.now()
    with transaction.atomic():
        events = _demo_shopper_events(brand, products, now)
        for kind, sku, days in DEMO_HISTORY:
            events.append(
                Event(
                    brand=brand,
                    external_id=f"demo-customer-{kind}-{sku}",
                    customer=customer,
                    kind=kind,
                    product_id=products[sku],
                    occurred_at=(now - timedelta(days=days)).replace(hour=19),
                    source=Source.OBSERVED,
                )
            )
        stored = set(
            Event.objects.filter(
                brand=brand, external_id__in=[e.external_id for e in events]
            ).values_list("external_id", flat=True)
        )
        new = [e for e in events if e.external_id not in stored]
        events_create(
            events=new,
            actor=Actor.system("demo_data"),
            describe=lambda n: "demo history",
            ignore_conflicts=True,
            batch_size=5000,
        )
        _demo_order(
            brand, customer, catalog, now, audited=any(e.customer_id == customer.pk for e in new)
        )
    if TrainingRun.objects.filter(brand=brand, is_active=True).exists():
        return None
    return train_brand(brand_id=brand.pk, reason="demo data")


def _demo_shopper_events(brand: Brand, products: dict[str, int], now: datetime) -> list[Event]:
    """The demo shoppers (created once) and their ratings, to be stored if new."""
    User = get_user_model()
    events = []
    for n, (_taste, skus) in enumerate(sorted(DEMO_SHOPPERS.items()) * 3):
        user, _ = User.objects.get_or_create(
            username=f"demo-shopper-{n}", defaults={"password": "!"}
        )
        shopper, _ = Customer.objects.get_or_create(user=user)
        for i, sku in enumerate(skus[: 3 + n % 3]):
            events.append(
                Event(
                    brand=brand,
                    external_id=f"demo-{n}-{sku}",
                    customer=shopper,
                    kind="rating",
                    value=5.0 - (i % 2),
                    product_id=products[sku],
                    occurred_at=now - timedelta(days=i + n),
                    source=Source.OBSERVED,
                )
            )
    return events


def _demo_order(
    brand: Brand, customer: Customer, catalog: dict, now: datetime, *, audited: bool
) -> None:
    """The demo customer's one order, as the brand recorded it: observed, totalled.
    ``audited``: their "demo history" audit row was just written with their events."""
    ext, sku, days = DEMO_ORDER
    product_id, price = catalog[sku]
    order, created = Order.objects.get_or_create(
        brand=brand,
        external_id=ext,
        defaults={
            "customer": customer,
            "placed_at": now - timedelta(days=days),
            "source": Source.OBSERVED,
            "total": price,
        },
    )
    if created:
        OrderLine.objects.create(order=order, product_id=product_id, unit_price=price)
        if not audited:
            audit_record(
                actor=Actor.system("demo_data"),
                customer=customer,
                data_kind="event",
                action="create",
                reason="demo history",
            )
