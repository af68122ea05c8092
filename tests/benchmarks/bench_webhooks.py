"""Webhook fan-out: 1,000 events (200 customers x 5, so per-customer order is exercised)
delivered through a local receiver: claimed, signed, posted in order, marked delivered.

Compared with a bare loop of 1,000 signed POSTs of the same bodies with the same client
to the same receiver, measured in the same run (no database). Target: <= 5 s for the
delivery. Emitting (one transaction per event, as toggles do) is timed separately, and the
dispatcher's SQL statements per delivery are printed. Uses its own throwaway database.
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

TARGET_SECONDS = 5.0
CUSTOMERS, PER_CUSTOMER = 200, 5
EVENTS = CUSTOMERS * PER_CUSTOMER


def emit_all(brand) -> None:
    """Each event in its own transaction, as real toggles are."""
    from django.db import transaction

    from accounts.webhooks import webhook_emit

    for n in range(PER_CUSTOMER):
        for c in range(CUSTOMERS):
            with transaction.atomic():
                webhook_emit(
                    brand_id=brand.pk,
                    customer_ref=f"ref-{c}",
                    event_type="consent.changed",
                    data={"purpose": "personalization", "allowed": n % 2 == 0},
                )


def measure_pipeline(receiver) -> tuple[float, float, int]:
    from django.conf import settings
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from accounts.models import DeliveryState, WebhookDelivery
    from accounts.webhook_dispatch import webhooks_dispatch
    from tests.factories import BrandFactory

    settings.WEBHOOK_ALLOW_PRIVATE_NETWORKS = True
    settings.WEBHOOK_ALLOW_HTTP = True
    from tests.bridge import Brand

    brand = Brand(slug="bench-hooks")
    brand.endpoint(receiver.url)
    BrandFactory(slug="bench-other")
    started = time.perf_counter()
    emit_all(brand.brand)
    emitted = time.perf_counter() - started
    with CaptureQueriesContext(connection) as ctx:
        started = time.perf_counter()
        while webhooks_dispatch().delivered:
            pass
        total = time.perf_counter() - started
    delivered = WebhookDelivery.objects.filter(state=DeliveryState.DELIVERED).count()
    assert delivered == EVENTS, delivered
    return emitted, total, len(ctx.captured_queries)


def measure_bare(receiver) -> float:
    """The same number of signed POSTs, bodies ready, no database."""
    from datetime import UTC, datetime

    from standardwebhooks.webhooks import Webhook

    from accounts.webhook_dispatch import _client
    from accounts.webhooks import webhook_secret_new

    signer = Webhook(webhook_secret_new())
    body = '{"data":{"allowed":true,"customer_ref":"ref-0","purpose":"personalization"}}'
    client = _client()
    started = time.perf_counter()
    for i in range(EVENTS):
        now = datetime.now(UTC)
        headers = {
            "content-type": "application/json",
            "webhook-id": f"msg_{i}",
            "webhook-timestamp": str(int(now.timestamp())),
            "webhook-signature": signer.sign(msg_id=f"msg_{i}", timestamp=now, data=body),
        }
        with client.stream("POST", receiver.url, content=body.encode(), headers=headers) as r:
            assert r.status_code == 204
    seconds = time.perf_counter() - started
    client.close()
    return seconds


def in_order(receiver) -> bool:
    """Every customer's events arrived in the order they were emitted."""
    seen: dict[str, list[bool]] = {}
    for event in receiver.events():
        seen.setdefault(event["data"]["customer_ref"], []).append(event["data"]["allowed"])
    expected = [n % 2 == 0 for n in range(PER_CUSTOMER)]
    return len(seen) == CUSTOMERS and all(v == expected for v in seen.values())


def main() -> None:
    old = throwaway_database("bench_webhooks")
    from tests.bridge import Receiver

    receiver, bare_receiver = Receiver(), Receiver()
    try:
        emitted, total, queries = measure_pipeline(receiver)
        ordered = in_order(receiver)
        bare = measure_bare(bare_receiver)
    finally:
        receiver.stop()
        bare_receiver.stop()
        drop_database(old)
    rows = [
        (f"emit {EVENTS:,} events (one transaction each)", f"{emitted:.3f} s", ""),
        (
            f"deliver {EVENTS:,} through a local receiver",
            f"{total:.3f} s",
            f"<= {TARGET_SECONDS:.0f} s: {'ok' if total <= TARGET_SECONDS else 'MISS'}",
        ),
        (
            f"baseline: {EVENTS:,} bare signed POSTs",
            f"{bare:.3f} s",
            f"total / bare = {total / bare:.2f}x",
        ),
        ("dispatcher statements per delivery", f"{queries / EVENTS:.2f}", ""),
        ("in order per customer", "", "ok" if ordered else "MISS"),
    ]
    width = max(len(r[0]) for r in rows)
    for check, figure, verdict in rows:
        print(f"{check:<{width}}  {figure:>10}  {verdict}")


if __name__ == "__main__":
    main()
