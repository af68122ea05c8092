"""Messages: 10,000 scheduled through the brand's API service and dispatched by email.

Scheduling (messages_create, batches of 1,000: decision + rows + audit) and dispatching
(claim, decide again, render text + HTML, send, mark) are timed separately. Baseline,
measured in the same run: the same number of multipart mails built and handed to the same
email backend (Django's in-memory one, so the figure is Candor's own cost, not a mail
server's), no database. The dispatcher's SQL statements per message are printed for 1,000
and for 10,000 messages: constant per batch, so the same per message at any size.
Uses its own throwaway database.
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

MESSAGES = 10_000
CUSTOMERS = 2_000
BATCH = 1_000


def customers(brand) -> None:
    from accounts.models import CustomerBrand
    from ledger.ingest import customers_ingest
    from ledger.models import PersonalFact
    from ledger.schemas import CustomerIn

    for start in range(0, CUSTOMERS, BATCH):
        customers_ingest(
            brand=brand,
            items=[CustomerIn(external_ref=f"c-{i}") for i in range(start, start + BATCH)],
        )
    ids = CustomerBrand.objects.filter(brand=brand).values_list("customer_id", flat=True)
    PersonalFact.objects.bulk_create(
        PersonalFact(customer_id=cid, field="email", value=f"c{cid}@example.org") for cid in ids
    )


def schedule(brand, count: int, prefix: str) -> float:
    from ledger.messages.api import MessageIn
    from ledger.messages.services import messages_create

    items = [
        MessageIn(
            external_id=f"{prefix}-{i}",
            customer_ref=f"c-{i % CUSTOMERS}",
            category="service",
            subject=f"Your order {i} has shipped",
            body="It is on its way. Check the delivery address if anything looks wrong.",
            action={"label": "Check my address", "destination": "address"},
        )
        for i in range(count)
    ]
    started = time.perf_counter()
    for start in range(0, count, BATCH):
        messages_create(brand=brand, items=items[start : start + BATCH])
    return time.perf_counter() - started


def dispatch() -> tuple[float, int, int]:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from ledger.messages.dispatch import messages_dispatch

    with CaptureQueriesContext(connection) as ctx:
        started = time.perf_counter()
        sent = messages_dispatch(limit=MESSAGES * 2).sent
        seconds = time.perf_counter() - started
    return seconds, sent, len(ctx.captured_queries)


def bare(count: int) -> float:
    from django.core import mail
    from django.core.mail import EmailMultiAlternatives, get_connection

    text = "Your order has shipped.\n\nIt is on its way.\n\nCheck my address: http://x/m/t/\n"
    html = f"<p>{text}</p>"
    started = time.perf_counter()
    connection = get_connection()
    for i in range(count):
        message = EmailMultiAlternatives(
            subject=f"Northwind: Your order {i} has shipped",
            body=text,
            to=[f"c{i}@example.org"],
            connection=connection,
        )
        message.attach_alternative(html, "text/html")
        message.send()
    seconds = time.perf_counter() - started
    mail.outbox.clear()
    return seconds


def main() -> None:
    old = throwaway_database("bench_messages")
    try:
        from django.core import mail

        from tests.bridge import Brand

        brand = Brand(slug="bench-messages").brand
        customers(brand)
        schedule(brand, 1_000, "small")
        small_seconds, small_sent, small_queries = dispatch()
        scheduled = schedule(brand, MESSAGES, "big")
        dispatched, sent, queries = dispatch()
        assert sent == MESSAGES and small_sent == 1_000, (sent, small_sent)
        assert len(mail.outbox) == MESSAGES + 1_000
        mail.outbox.clear()
        baseline = bare(MESSAGES)
    finally:
        drop_database(old)
    rows = [
        (
            f"schedule {MESSAGES:,} (batches of {BATCH:,})",
            f"{scheduled:.2f} s",
            f"{MESSAGES / scheduled:,.0f} msg/s",
        ),
        (
            f"dispatch {MESSAGES:,} by email",
            f"{dispatched:.2f} s",
            f"{MESSAGES / dispatched:,.0f} msg/s",
        ),
        (
            f"baseline: {MESSAGES:,} bare multipart mails",
            f"{baseline:.2f} s",
            f"dispatch / bare = {dispatched / baseline:.1f}x",
        ),
        ("dispatcher statements per message, 1,000", f"{small_queries / 1_000:.3f}", ""),
        (
            "dispatcher statements per message, 10,000",
            f"{queries / MESSAGES:.3f}",
            "constant" if abs(queries / MESSAGES - small_queries / 1_000) < 0.01 else "GROWS",
        ),
    ]
    width = max(len(r[0]) for r in rows)
    for check, figure, verdict in rows:
        print(f"{check:<{width}}  {figure:>10}  {verdict}")


if __name__ == "__main__":
    main()
