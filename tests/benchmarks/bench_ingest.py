"""Benchmark P7: a 1,000-event batch through the real ingest endpoint, target <= 0.2 s.

Baseline, measured in the same run on the same database: a bare `Event.objects.bulk_create`
of the same 1,000 rows (no HTTP, no auth, no JSON, no validation, no reference lookups, no
audit). Each figure is the median of 5 runs, each run with fresh external ids so every
event is really stored. Runs on a throwaway test database (Django's `setup_databases`),
never the dev database: a SQLite file under CANDOR_VAR_DIR, or `test_<name>` on PostgreSQL.

    .venv/bin/python tests/benchmarks/run.py bench_ingest
"""

from __future__ import annotations

import json
import os
import statistics
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

RUNS = 5
BATCH = 1000
TARGET_SECONDS = 0.2
N_CUSTOMERS = 50
N_PRODUCTS = 100


def _median_time(func, runs: int = RUNS) -> float:
    times = []
    for n in range(runs):
        start = time.perf_counter()
        func(n)
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def _items(run: int, label: str) -> list[dict]:
    start = datetime(2026, 3, 1, tzinfo=UTC)
    return [
        {
            "external_id": f"{label}-{run}-{n}",
            "customer_ref": f"cust-{n % N_CUSTOMERS}",
            "kind": ("view", "click", "add_to_cart", "rating")[n % 4],
            "product_ref": f"sku-{n % N_PRODUCTS}",
            "value": 4.0 if n % 4 == 3 else None,
            "occurred_at": (start + timedelta(seconds=n)).isoformat(),
        }
        for n in range(BATCH)
    ]


def _seed():
    from django.contrib.auth import get_user_model

    from accounts.keys import server_key_create
    from accounts.models import Brand, Customer, CustomerBrand
    from ledger.models import Product

    brand = Brand.objects.create(name="Bench", slug="bench")
    User = get_user_model()
    users = User.objects.bulk_create(User(username=f"bench-{n}") for n in range(N_CUSTOMERS))
    customers = Customer.objects.bulk_create(Customer(user=u) for u in users)
    CustomerBrand.objects.bulk_create(
        CustomerBrand(customer=c, brand=brand, external_ref=f"cust-{n}")
        for n, c in enumerate(customers)
    )
    Product.objects.bulk_create(
        Product(brand=brand, external_id=f"sku-{n}", name=f"Product {n}") for n in range(N_PRODUCTS)
    )
    _, raw = server_key_create(brand=brand)
    return brand, raw


def run() -> list[tuple[str, float, str, str]]:
    from django.db import transaction
    from django.test import Client

    from accounts.models import CustomerBrand
    from ledger.ingest import events_ingest
    from ledger.models import Event, Product
    from ledger.schemas import EventBatch

    brand, raw = _seed()
    client = Client()
    headers = {"HTTP_AUTHORIZATION": f"Bearer {raw}"}

    # Request bodies and payloads are built before the clock starts: only the server side
    # is timed.
    bodies = {n: json.dumps({"items": _items(n, "http")}) for n in range(-1, RUNS)}
    payloads = {n: {"items": _items(n, "svc")} for n in range(RUNS)}

    def endpoint(n: int) -> None:
        body = bodies[n]
        response = client.post("/api/v1/ingest/events", body, "application/json", **headers)
        assert response.status_code == 200 and response.json()["stored"] == BATCH, response.content

    def service(n: int) -> None:
        batch = EventBatch.model_validate(payloads[n])
        assert events_ingest(brand=brand, items=batch.items).stored == BATCH

    customers = dict(
        CustomerBrand.objects.filter(brand=brand).values_list("external_ref", "customer_id")
    )
    products = dict(Product.objects.filter(brand=brand).values_list("external_id", "pk"))

    def bare(n: int) -> None:
        rows = [
            Event(
                customer_id=customers[i["customer_ref"]],
                brand=brand,
                source="observed",
                external_id=i["external_id"],
                kind=i["kind"],
                product_id=products[i["product_ref"]],
                value=i["value"],
                occurred_at=datetime.fromisoformat(i["occurred_at"]),
            )
            for i in items[n]
        ]
        with transaction.atomic():
            Event.objects.bulk_create(rows)

    items = {n: _items(n, "bare") for n in range(RUNS)}  # built outside the timing
    endpoint(-1)  # warm-up: URL resolver, schema, first connection

    t_endpoint = _median_time(endpoint)
    t_service = _median_time(service)
    t_bare = _median_time(bare)
    stored = Event.objects.filter(brand=brand).count()
    assert stored == BATCH * (3 * RUNS + 1), stored

    ok = "ok" if t_endpoint <= TARGET_SECONDS else "MISS"
    return [
        ("bare Event.objects.bulk_create, 1,000 rows (baseline)", t_bare, "", "-"),
        ("ingest service: validate + resolve + store + audit", t_service, "", "-"),
        ("POST /api/v1/ingest/events, 1,000 events", t_endpoint, f"<= {TARGET_SECONDS}", ok),
        ("  ratio endpoint / bare bulk_create", t_endpoint / t_bare, "", "-"),
        ("  ratio service / bare bulk_create", t_service / t_bare, "", "-"),
    ]


def main() -> None:
    import django
    from django.conf import settings

    django.setup()
    from django.db import connection
    from django.test.utils import (
        setup_databases,
        setup_test_environment,
        teardown_databases,
        teardown_test_environment,
    )

    settings.DEBUG = False  # no query log in memory while timing
    if connection.vendor == "sqlite":
        # Our own file, so a test run sharing CANDOR_VAR_DIR is never disturbed.
        connection.settings_dict.setdefault("TEST", {})["NAME"] = str(
            Path(settings.VAR_DIR) / "bench_ingest.sqlite3"
        )
    setup_test_environment()
    old = setup_databases(verbosity=0, interactive=False)
    try:
        rows = run()
        vendor = connection.vendor
    finally:
        teardown_databases(old, verbosity=0)
        teardown_test_environment()

    width = max(len(r[0]) for r in rows)
    print(f"database: {vendor}; median of {RUNS} runs, {BATCH} events per batch")
    header = f"{'check':<{width}}  {'seconds/x':>9}  {'target':<8}  verdict"
    print(header)
    print("-" * len(header))
    for check, value, target, verdict in rows:
        print(f"{check:<{width}}  {value:>9.4f}  {target:<8}  {verdict}")


if __name__ == "__main__":
    main()
