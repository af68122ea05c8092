"""Benchmark: 1,000 full customer records in one batch through `POST /api/v1/ingest/customers`.

Each record has the four facts, an address, two channel preferences, a brand-collected
consent and a partner attribute. Baseline, measured in the same run on the same database:
the same endpoint with 1,000 bare customer references (what it took before records). Rows:
new customers with their records, the same batch again (all duplicates), and a batch of
later values for the same customers (every value updated). Times are the median of 3 runs,
fresh references per run; statements are counted on one more run of each, outside the
timing. Runs on a throwaway test database, never the dev database.

    .venv/bin/python tests/benchmarks/run.py bench_record
"""

from __future__ import annotations

import json
import os
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

RUNS = 3
BATCH = 1000
LATER = "2026-07-01T08:00:00+00:00"


def _records(label: str, *, later: bool = False) -> list[dict]:
    from tests.record import full_record

    items = []
    for n in range(BATCH):
        item = full_record(f"{label}-{n}")
        item["record"]["addresses"][0]["external_id"] = f"{label}-addr-{n}"
        if later:
            for name in ("legal_name", "email", "phone"):
                fact = item["record"][name]
                fact["value"] = fact["value"].replace("Z", "Y").replace("7", "8")
                fact["collected_at"] = LATER
            item["record"]["addresses"][0].update(line1=f"{n} Later Road", collected_at=LATER)
            item["third_party"][0].update(value="band-E", obtained_at=LATER)
        items.append(item)
    return items


def run() -> tuple[list[tuple[str, float, str]], int]:
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    from accounts.keys import server_key_create
    from tests.factories import BrandFactory

    brand = BrandFactory(slug="bench", name="Bench")
    _, raw = server_key_create(brand=brand)
    client = Client()
    headers = {"HTTP_AUTHORIZATION": f"Bearer {raw}"}

    def post(body: str, expect: str, n: int = BATCH) -> None:
        response = client.post("/api/v1/ingest/customers", body, "application/json", **headers)
        assert response.status_code == 200, response.content[:300]
        assert response.json()[expect] == n, response.json()

    bare = {
        n: json.dumps({"items": [{"external_ref": f"bare-{n}-{i}"} for i in range(BATCH)]})
        for n in range(RUNS + 1)
    }
    full = {n: _records(f"full-{n}") for n in range(RUNS + 1)}
    full_bodies = {n: json.dumps({"items": items}) for n, items in full.items()}
    later_bodies = {
        n: json.dumps({"items": _records(f"full-{n}", later=True)}) for n in range(RUNS + 1)
    }
    size = len(full_bodies[0].encode())
    post(json.dumps({"items": [{"external_ref": "warm-up"}]}), "stored", 1)

    def timed(bodies: dict, expect: str) -> tuple[float, int]:
        times = []
        for n in range(RUNS):
            start = time.perf_counter()
            post(bodies[n], expect)
            times.append(time.perf_counter() - start)
        with CaptureQueriesContext(connection) as queries:
            post(bodies[RUNS], expect)
        return statistics.median(times), len(queries.captured_queries)

    t_bare, q_bare = timed(bare, "stored")
    t_full, q_full = timed(full_bodies, "stored")
    t_again, q_again = timed(full_bodies, "duplicates")
    t_later, q_later = timed(later_bodies, "stored")
    rows = [
        ("1,000 bare customer references (baseline)", t_bare, str(q_bare)),
        ("1,000 new customers with full records", t_full, str(q_full)),
        ("the same 1,000 records again (duplicates)", t_again, str(q_again)),
        ("1,000 records with later values (updates)", t_later, str(q_later)),
        ("  ratio full / bare", t_full / t_bare, ""),
        ("  ratio updates / bare", t_later / t_bare, ""),
    ]
    return rows, size


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
        connection.settings_dict.setdefault("TEST", {})["NAME"] = str(
            Path(settings.VAR_DIR) / "bench_record.sqlite3"
        )
    setup_test_environment()
    old = setup_databases(verbosity=0, interactive=False)
    try:
        rows, size = run()
        vendor = connection.vendor
    finally:
        teardown_databases(old, verbosity=0)
        teardown_test_environment()

    width = max(len(r[0]) for r in rows)
    print(
        f"database: {vendor}; median of {RUNS} runs, {BATCH} records per batch "
        f"({size / 1024:.0f} KiB of JSON)"
    )
    header = f"{'check':<{width}}  {'seconds/x':>9}  statements"
    print(header)
    print("-" * len(header))
    for check, value, statements in rows:
        print(f"{check:<{width}}  {value:>9.4f}  {statements}")


if __name__ == "__main__":
    main()
