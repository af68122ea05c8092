"""Connecting a brand's record with 100,000 events to a signed-in customer: time and SQL
statements.

The statement count must not depend on the data size (1,000 vs 100,000 events give the
same count); the time is compared with a bare `UPDATE` of the same events to the new
owner, measured in the same run. Target: <= 2 s. Uses its own throwaway database.
"""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

from tests.benchmarks.bench_erasure import drop_database, throwaway_database  # noqa: E402

TARGET_SECONDS = 2.0
SIZES = (1_000, 100_000)


def brand_record(n: int, label: str):
    """A brand's record as ingest makes it, with `n` events, and a signed-up customer."""
    from django.utils import timezone

    from accounts.models import CustomerBrand
    from accounts.services import customer_create
    from ledger.ingest import customers_ingest, orders_ingest
    from ledger.models import Event
    from ledger.schemas import CustomerIn, OrderIn, OrderLineIn
    from tests.factories import BrandFactory, ProductFactory, UserFactory

    brand = BrandFactory(slug=f"bench-{label}")
    product = ProductFactory(brand=brand)
    ref = f"ref-{label}"
    customers_ingest(brand=brand, items=[CustomerIn(external_ref=ref)])
    orders_ingest(
        brand=brand,
        items=[
            OrderIn(
                external_id=f"{label}-o{i}",
                customer_ref=ref,
                placed_at=timezone.now(),
                lines=[OrderLineIn(product_ref=product.external_id, unit_price="9.90")],
            )
            for i in range(10)
        ],
    )
    shell = CustomerBrand.objects.get(brand=brand, external_ref=ref).customer
    now = timezone.now()
    Event.objects.bulk_create(
        (
            Event(customer=shell, brand=brand, product=product, kind="view", occurred_at=now)
            for _ in range(n)
        ),
        batch_size=5000,
    )
    target = customer_create(user=UserFactory(username=f"bench-{label}"))
    return brand, ref, shell, target


def measure_connect(n: int, label: str) -> tuple[float, int]:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from transparency.connect import customer_connect

    brand, ref, _, target = brand_record(n, label)
    with CaptureQueriesContext(connection) as ctx:
        started = time.perf_counter()
        joined = customer_connect(customer=target, brand=brand, ref=ref)
        seconds = time.perf_counter() - started
    assert joined.counts["event"] == n, joined.counts
    return seconds, len(ctx.captured_queries)


def measure_bare_update(n: int) -> float:
    from ledger.models import Event

    _, _, shell, target = brand_record(n, "bare")
    started = time.perf_counter()
    moved = Event.objects.filter(customer=shell).update(customer=target)
    seconds = time.perf_counter() - started
    assert moved == n
    return seconds


def main() -> None:
    old = throwaway_database("bench_connect")
    try:
        small_s, small_q = measure_connect(SIZES[0], "small")
        big_s, big_q = measure_connect(SIZES[1], "big")
        bare_s = measure_bare_update(SIZES[1])
    finally:
        drop_database(old)
    rows = [
        ("connect, 1,000 events", f"{small_s:.3f} s", f"{small_q} statements", ""),
        (
            "connect, 100,000 events",
            f"{big_s:.3f} s",
            f"{big_q} statements",
            f"<= {TARGET_SECONDS:.0f} s: {'ok' if big_s <= TARGET_SECONDS else 'MISS'}",
        ),
        (
            "baseline: bare Event update, 100,000",
            f"{bare_s:.3f} s",
            "",
            f"connect / bare = {big_s / bare_s:.2f}x",
        ),
        (
            "statements constant in data size",
            "",
            f"{small_q} vs {big_q}",
            "ok" if small_q == big_q else "MISS",
        ),
    ]
    width = max(len(r[0]) for r in rows)
    for check, seconds, statements, verdict in rows:
        print(f"{check:<{width}}  {seconds:>10}  {statements:>16}  {verdict}")


if __name__ == "__main__":
    main()
