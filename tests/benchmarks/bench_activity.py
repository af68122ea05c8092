"""Benchmark the Activity page: 10,000 events against a 10-event baseline, in one run.

Paging means the page costs the same whatever the history size, so the ratio of the
big customer's render time to the baseline's should be close to 1, with the same number
of queries. The 10-event baseline renders fewer rows than a full page, so a 500-event
baseline (a full page of 50 rows, filtered or not) is measured too; the target is on it.
Runs on a throwaway test database (never the dev database):
`.venv/bin/python tests/benchmarks/run.py bench_activity`.
"""

from __future__ import annotations

import os
import statistics
import sys
import time
from datetime import timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

import django  # noqa: E402

django.setup()

from django.conf import settings  # noqa: E402
from django.db import connection  # noqa: E402
from django.test import Client  # noqa: E402
from django.test.utils import (  # noqa: E402
    setup_databases,
    setup_test_environment,
    teardown_databases,
    teardown_test_environment,
)
from django.urls import reverse  # noqa: E402
from django.utils import timezone  # noqa: E402

BIG = 10_000
SMALL = 10
FULL_PAGE = 500  # a full page of rows even with the brand + type filter (1 in 10)
REPEATS = 25
TARGET_RATIO = 1.5


def _seed(username: str, count: int, brands, products, spacing_minutes: int = 1):
    from accounts.services import customer_create
    from ledger.models import Event
    from tests.factories import UserFactory

    customer = customer_create(user=UserFactory(username=username))
    now = timezone.now()
    kinds = ["view", "click", "search", "add_to_cart", "rating"]
    Event.objects.bulk_create(
        (
            Event(
                customer=customer,
                brand=brands[i % len(brands)],
                product=products[i % len(products)],
                kind=kinds[i % len(kinds)],
                source="observed",
                occurred_at=now - timedelta(minutes=spacing_minutes * i),
            )
            for i in range(count)
        ),
        batch_size=2_000,
    )
    client = Client()
    client.force_login(customer.user)
    client.get(reverse("dashboard:home"))  # the session's first request records it
    return client


def _measure(client: Client, url: str, params: dict) -> tuple[float, int]:
    for _ in range(3):
        assert client.get(url, params).status_code == 200
    queries: list[tuple[float, str]] = []

    def count(execute, sql, params, many, context):
        started = time.perf_counter()
        try:
            return execute(sql, params, many, context)
        finally:
            queries.append((time.perf_counter() - started, sql))

    with connection.execute_wrapper(count):
        client.get(url, params)
    times = []
    for _ in range(REPEATS):
        started = time.perf_counter()
        response = client.get(url, params)
        times.append(time.perf_counter() - started)
        assert response.status_code == 200
    if os.environ.get("BENCH_SQL"):
        for spent, sql in queries:
            print(f"  {spent * 1000:7.2f} ms  {sql[:150]}")
    return statistics.median(times) * 1000, len(queries)


def _run(url_name: str, scenarios, spacing_minutes: int) -> list[dict]:
    from tests.factories import BrandFactory, ProductFactory

    brands = [BrandFactory(name="Acme Outdoors"), BrandFactory(name="Northwind Books")]
    products = [ProductFactory(brand=brands[i % 2]) for i in range(20)]
    clients = {
        n: _seed(f"bench-{n}", n, brands, products, spacing_minutes)
        for n in (SMALL, FULL_PAGE, BIG)
    }
    url = reverse(url_name)
    rows = []
    for name, params in scenarios(brands):
        row = {"page": name}
        for n, client in clients.items():
            row[n] = _measure(client, url, params)
        rows.append(row)
    return rows


def bench_page(
    *, label: str, url_name: str, scenarios, target_ratio: float, title: str, spacing_minutes=1
) -> None:
    """Render `url_name` for customers with SMALL, FULL_PAGE and BIG events in a throwaway
    database; print times, queries and the BIG / FULL_PAGE ratio against its target."""
    settings.DEBUG = False
    test_name = f"bench_{label}_{os.getpid()}"
    db = settings.DATABASES["default"]
    db.setdefault("TEST", {})
    db["TEST"]["NAME"] = (
        str(settings.VAR_DIR / f"{test_name}.sqlite3")
        if db["ENGINE"].endswith("sqlite3")
        else test_name
    )
    setup_test_environment()
    old = setup_databases(verbosity=0, interactive=False)
    try:
        rows = _run(url_name, scenarios, spacing_minutes)
    finally:
        teardown_databases(old, verbosity=0)
        teardown_test_environment()
    print(title.format(repeats=REPEATS, vendor=connection.vendor))
    header = (
        f"{'page':<24} {f'{SMALL} ev ms':>9} {'q':>3} {f'{FULL_PAGE} ev ms':>9} {'q':>3} "
        f"{f'{BIG:,} ev ms':>12} {'q':>3} {f'/{SMALL}':>6} {f'/{FULL_PAGE}':>6}  target"
    )
    print(header)
    print("-" * len(header))
    for r in rows:
        (s_ms, s_q), (f_ms, f_q), (b_ms, b_q) = r[SMALL], r[FULL_PAGE], r[BIG]
        vs_full = b_ms / f_ms
        ok = "ok" if vs_full <= target_ratio and b_q == f_q == s_q else "MISS"
        print(
            f"{r['page']:<24} {s_ms:>9.1f} {s_q:>3} {f_ms:>9.1f} {f_q:>3} {b_ms:>12.1f} {b_q:>3} "
            f"{b_ms / s_ms:>6.2f} {vs_full:>6.2f}  <= {target_ratio}, same queries: {ok}"
        )


def main() -> None:
    bench_page(
        label="activity",
        url_name="dashboard:activity",
        scenarios=lambda brands: [
            ("first page", {}),
            ("filtered: brand + type", {"brand": brands[0].pk, "kind": "view"}),
        ],
        target_ratio=TARGET_RATIO,
        title=(
            "Activity page render, median of {repeats} ({vendor}). Baselines measured in "
            f"this run: {SMALL} events (fewer rows to render) and {FULL_PAGE} (a full page "
            "of rows)."
        ),
    )


if __name__ == "__main__":
    main()
