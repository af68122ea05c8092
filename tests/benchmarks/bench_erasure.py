"""P5: erase-all for a customer with 100,000 events — time and SQL statement count.

The statement count must not depend on the data size (1,000 vs 100,000 events give the same
count); the time is compared with a bare `Event.objects.filter(customer=...).delete()`
measured in the same run. Uses its own throwaway database (never the dev database).
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

TARGET_SECONDS = 2.0
SIZES = (1_000, 100_000)


def throwaway_database(name: str):
    import django

    django.setup()
    from django.conf import settings
    from django.test.utils import setup_databases, setup_test_environment

    db = settings.DATABASES["default"]
    if db["ENGINE"].endswith("sqlite3"):
        db.setdefault("TEST", {})["NAME"] = str(settings.VAR_DIR / f"{name}.sqlite3")
    else:
        db.setdefault("TEST", {})["NAME"] = f"{db['NAME']}_{name}"
    setup_test_environment()
    return setup_databases(verbosity=0, interactive=False)


def drop_database(old_config) -> None:
    from django.test.utils import teardown_databases, teardown_test_environment

    teardown_databases(old_config, verbosity=0)
    teardown_test_environment()


def customer_with_events(n: int, label: str):
    from django.utils import timezone

    from accounts.services import customer_create
    from ledger.models import Event
    from tests.factories import BrandFactory, CustomerBrandFactory, ProductFactory, UserFactory

    customer = customer_create(user=UserFactory(username=f"bench-{label}"))
    brand = BrandFactory(slug=f"bench-{label}")
    product = ProductFactory(brand=brand)
    CustomerBrandFactory(customer=customer, brand=brand)
    now = timezone.now()
    Event.objects.bulk_create(
        (
            Event(customer=customer, brand=brand, product=product, kind="view", occurred_at=now)
            for _ in range(n)
        ),
        batch_size=5000,
    )
    return customer


def measure_erase(n: int, label: str) -> tuple[float, int]:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from transparency import services

    customer = customer_with_events(n, label)
    with CaptureQueriesContext(connection) as ctx:
        started = time.perf_counter()
        receipt = services.account_erase(customer=customer)
        seconds = time.perf_counter() - started
    assert receipt.kinds["event"] == n, receipt.kinds
    return seconds, len(ctx.captured_queries)


def measure_bare_delete(n: int) -> float:
    from ledger.models import Event

    customer = customer_with_events(n, "bare")
    started = time.perf_counter()
    deleted, _ = Event.objects.filter(customer=customer).delete()
    seconds = time.perf_counter() - started
    assert deleted == n
    return seconds


def main() -> None:
    old = throwaway_database("bench_erasure")
    try:
        small_s, small_q = measure_erase(SIZES[0], "small")
        big_s, big_q = measure_erase(SIZES[1], "big")
        bare_s = measure_bare_delete(SIZES[1])
    finally:
        drop_database(old)
    rows = [
        ("erase-all, 1,000 events", f"{small_s:.3f} s", f"{small_q} statements", ""),
        (
            "erase-all, 100,000 events",
            f"{big_s:.3f} s",
            f"{big_q} statements",
            f"<= {TARGET_SECONDS:.0f} s: {'ok' if big_s <= TARGET_SECONDS else 'MISS'}",
        ),
        (
            "baseline: bare Event delete, 100,000",
            f"{bare_s:.3f} s",
            "",
            f"erase-all / bare = {big_s / bare_s:.2f}x",
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
