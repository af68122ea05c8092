"""Erasure wins every race (D7): serialisable with every writer for that customer.

Real concurrency on PostgreSQL: a live server answering ingest and widget traffic from a
few threads while another thread erases the account, and writers run in threads (each with
its own connection) while an erasure is held open just before it deletes the customer.
Every wait is bounded; nothing here asserts a duration.
"""

import json
import threading
import time
import urllib.error
import urllib.request
from datetime import UTC, datetime

import pytest
from django.db import connection, connections
from django.utils import timezone

from accounts import admin_access
from accounts.audit import Actor
from accounts.keys import server_key_create
from accounts.locks import CustomerGone
from accounts.models import AuditEvent, Customer, CustomerBrand, Purpose, PurposeConsent
from ledger import ingest
from ledger import services as ledger_services
from ledger.models import Event, Order
from ledger.schemas import CustomerIn, EventIn, OrderIn, OrderLineIn
from recommendations import services as rec_services
from recommendations.models import Recommendation, TrainingRun
from recommendations.widget import events as widget_events
from tests.factories import OrderFactory, OrderLineFactory
from tests.widget import EVENTS_URL, Shop
from transparency import erasure, registry, services
from transparency.models import DataRequest, DeletionReceipt

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]

REF = "cust-alice"
THREADS = 4
REQUESTS_PER_THREAD = 50  # 200 in all
WAIT = 60  # seconds: the bound on any one wait below, never an assertion


@pytest.fixture(autouse=True)
def _work_stays_in_the_outbox(monkeypatch):
    """Retrains and recomputes asked for here wait in the outbox (no relay runs): in-process
    (eager) training would outlive the bounded joins below and is not what is tested."""
    from accounts import outbox

    monkeypatch.setattr(outbox, "publish", lambda message_id, **kw: False)


@pytest.fixture
def shop(alice):
    shop = Shop("shop-a")
    shop.link(alice, REF)
    PurposeConsent.objects.update_or_create(
        customer=alice, purpose=Purpose.PERSONALIZATION, defaults={"granted": True}
    )
    return shop


def _seed(alice, shop, n: int = 300) -> None:
    Event.objects.bulk_create(
        Event(customer=alice, brand=shop.brand, kind="view", occurred_at=timezone.now())
        for _ in range(n)
    )
    for i in range(20):
        OrderLineFactory(
            order=OrderFactory(customer=alice, brand=shop.brand, external_id=f"seed-{i}"),
            product=shop.products[0],
        )


def _leftovers(customer_id: int) -> dict[str, int]:
    ghost = Customer(pk=customer_id)
    counts = {k.name: k.rows_for(ghost).count() for k in registry.all_kinds()}
    counts["audit rows"] = AuditEvent.objects.filter(customer_id=customer_id).count()
    return {name: n for name, n in counts.items() if n}


# --- a live server under traffic -----------------------------------------------------------


def _post(url: str, body: dict, headers: dict) -> tuple[int, dict]:
    request = urllib.request.Request(
        url,
        data=json.dumps(body).encode(),
        headers={"Content-Type": "application/json", **headers},
        method="POST",
    )
    try:
        with urllib.request.urlopen(request, timeout=WAIT) as response:  # noqa: S310 (loopback)
            raw = response.read()
            return response.status, json.loads(raw) if raw else {}
    except urllib.error.HTTPError as exc:
        return exc.code, {}


class Traffic:
    """What a brand's server and its shop pages send for one customer, from a few threads."""

    def __init__(self, base: str, shop: Shop, server_key: str):
        self.base, self.shop = base, shop
        self.ingest_headers = {"Authorization": f"Bearer {server_key}"}
        self.widget_headers = {
            "Origin": shop.origin,
            "Authorization": f"Bearer {shop.token(REF, lifetime=900)}",
        }
        self.answers: list[tuple[str, int, dict]] = []
        self.started = threading.Semaphore(0)
        self._lock = threading.Lock()

    def request(self, thread: int, i: int) -> None:
        n = f"{thread}-{i}"
        sku = self.shop.products[i % len(self.shop.products)].external_id
        now = datetime.now(UTC).isoformat()
        headers = self.ingest_headers
        if i % 5 == 0:
            what, url = "widget", f"{self.base}{EVENTS_URL}?key={self.shop.key}"
            body = {"type": "click", "product_ids": [self.shop.products[0].pk]}
            headers = self.widget_headers
        elif i % 5 == 1:
            what, url = "orders", f"{self.base}/api/v1/ingest/orders"
            body = {
                "items": [
                    {"external_id": f"o-{n}-{j}", "customer_ref": REF, "placed_at": now,
                     "lines": [{"product_ref": sku, "unit_price": "9.50"}]}
                    for j in range(2)
                ]
            }  # fmt: skip
        elif i % 5 == 2:
            what, url = "customers", f"{self.base}/api/v1/ingest/customers"
            body = {"items": [{"external_ref": REF}]}
        else:
            what, url = "events", f"{self.base}/api/v1/ingest/events"
            body = {
                "items": [
                    {"external_id": f"e-{n}-{j}", "customer_ref": REF, "kind": "view",
                     "occurred_at": now, "product_ref": sku}
                    for j in range(5)
                ]
            }  # fmt: skip
        status, answer = _post(url, body, headers)
        with self._lock:
            self.answers.append((what, status, answer))
        self.started.release()

    def run(self, thread: int) -> None:
        try:
            for i in range(REQUESTS_PER_THREAD):
                self.request(thread, i)
        finally:
            connection.close()

    def stored(self, what: str) -> int:
        return sum(a.get("stored", 0) for w, s, a in self.answers if w == what)

    def dropped(self, what: str) -> int:
        return sum(a.get("dropped", 0) for w, s, a in self.answers if w == what)


def _in_thread(target, *args) -> threading.Thread:
    def run():
        try:
            target(*args)
        finally:
            connection.close()

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    return thread


def test_erasure_under_ingest_and_widget_traffic_completes_and_leaves_nothing(
    live_server, alice, shop
):
    _seed(alice, shop)
    seeded_orders = Order.objects.filter(customer=alice).count()
    traffic = Traffic(live_server.url, shop, server_key_create(brand=shop.brand)[1])
    customer_id = alice.pk
    outcome: dict = {}

    def erase():
        for _ in range(THREADS * REQUESTS_PER_THREAD // 5):  # erase once traffic is flowing
            if not traffic.started.acquire(timeout=WAIT):
                break
        try:
            outcome["receipt"] = services.account_erase(
                customer=Customer.objects.get(pk=customer_id)
            )
        except Exception as exc:  # the assertion below names it
            outcome["error"] = exc

    senders = [_in_thread(traffic.run, t) for t in range(THREADS)]
    eraser = _in_thread(erase)
    for thread in [*senders, eraser]:
        thread.join(timeout=WAIT * 3)
    # Sent after the erasure finished: dropped, whatever the timing above was.
    for i in range(5):
        traffic.request(THREADS, i)

    assert not any(t.is_alive() for t in [*senders, eraser])
    assert "error" not in outcome, outcome
    receipt = outcome["receipt"]
    assert len(traffic.answers) == THREADS * REQUESTS_PER_THREAD + 5
    statuses = sorted({status for _, status, _ in traffic.answers})
    assert statuses == [200, 204], [a for a in traffic.answers if a[1] >= 300][:5]
    assert _leftovers(customer_id) == {}
    assert not CustomerBrand.objects.filter(brand=shop.brand, external_ref=REF).exists()
    # Every order stored went with the account and is on the receipt; none came after.
    assert receipt.kinds["order"] == seeded_orders + traffic.stored("orders")
    assert receipt.kinds["event"] >= 300 + traffic.stored("events")
    assert traffic.dropped("events") >= 5 and traffic.dropped("orders") >= 2
    assert traffic.dropped("customers") >= 1 and traffic.stored("customers") == 0
    assert DeletionReceipt.objects.count() == 1


def test_two_erasures_at_once_give_one_receipt_and_the_second_is_a_no_op(alice, shop):
    _seed(alice, shop, n=2000)
    customer_id = alice.pk
    barrier = threading.Barrier(2, timeout=WAIT)
    results: list = []

    def erase():
        customer = Customer.objects.get(pk=customer_id)
        barrier.wait()
        try:
            results.append(services.account_erase(customer=customer))
        except Exception as exc:  # the assertion below names it
            results.append(exc)

    threads = [_in_thread(erase) for _ in range(2)]
    for thread in threads:
        thread.join(timeout=WAIT)

    assert not any(thread.is_alive() for thread in threads)
    assert len(results) == 2
    receipts = [r for r in results if isinstance(r, DeletionReceipt)]
    assert len(receipts) == 1 and results.count(None) == 1, results
    assert DeletionReceipt.objects.count() == 1
    assert DataRequest.objects.filter(kind="erasure").count() == 1
    assert _leftovers(customer_id) == {}


# --- each writer against an erasure held open -----------------------------------------------


def _event_in(shop, n: str) -> EventIn:
    return EventIn(
        external_id=f"late-{n}",
        customer_ref=REF,
        kind="view",
        occurred_at=timezone.now(),
        product_ref=shop.products[0].external_id,
    )


def _order_in(shop) -> OrderIn:
    line = OrderLineIn(product_ref=shop.products[0].external_id, unit_price="5.00")
    return OrderIn(external_id="late-o", customer_ref=REF, placed_at=timezone.now(), lines=[line])


def _retrain(customer, shop):
    Recommendation.objects.create(
        customer=customer, brand=shop.brand, product=shop.products[0], rank=1, score=1.0
    )
    return lambda: rec_services.train_brand(brand_id=shop.brand.pk).state == "succeeded"


def _recompute(customer, shop):
    TrainingRun.objects.create(brand=shop.brand, state="succeeded", is_active=True)
    return lambda: rec_services.customer_recompute(customer_id=customer.pk)


# name -> (customer, shop) -> the write to run while the erasure is open; returns what the
# writer answered, which must say that nothing was written.
WRITERS = {
    "ingest events": lambda c, s: (
        lambda: ingest.events_ingest(brand=s.brand, items=[_event_in(s, "1")]).dropped
    ),
    "ingest orders": lambda c, s: (
        lambda: ingest.orders_ingest(brand=s.brand, items=[_order_in(s)]).dropped
    ),
    "ingest customers": lambda c, s: (
        lambda: ingest.customers_ingest(brand=s.brand, items=[CustomerIn(external_ref=REF)]).dropped
    ),
    "widget events": lambda c, s: (
        lambda: (
            not widget_events.widget_events_record(
                customer=Customer(pk=c.pk),
                brand=s.brand,
                kind="click",
                product_ids=[s.products[0].pk],
            )
        )
    ),
    "not interested": lambda c, s: (
        lambda: rec_services.not_interested_record(customer=c, product_id=s.products[1].pk) is None
    ),
    "brand retrain": _retrain,
    "recompute": lambda c, s: (lambda run: lambda: run() == 0)(_recompute(c, s)),
    "point toggle": lambda c, s: (
        lambda: _raises(
            CustomerGone,
            services.datapoint_set_in_use,
            customer=c,
            kind_name="event",
            pk=Event.objects.filter(customer=c).first().pk,
            in_use=False,
        )
    ),
    "kind toggle": lambda c, s: (
        lambda: _raises(
            CustomerGone, services.kind_set_in_use, customer=c, kind_name="event", in_use=False
        )
    ),
    "purpose toggle": lambda c, s: (
        lambda: _raises(
            CustomerGone, services.purpose_set_granted, customer=c, purpose="contact", granted=True
        )
    ),
    "point deletion": lambda c, s: (
        lambda: _raises(
            services.NothingToDelete,
            services.data_delete,
            customer=c,
            scope="point",
            kind_name="order",
            pk=Order.objects.filter(customer=c).first().pk,
        )
    ),
    "address": lambda c, s: (
        lambda: _raises(
            CustomerGone,
            ledger_services.address_create,
            customer=c,
            actor=Actor.customer(c),
            line1="1 Late Street",
        )
    ),
    "export record": lambda c, s: (
        lambda: _raises(CustomerGone, services.export_record, customer=c, fmt="json")
    ),
    "staff view": lambda c, s: (
        lambda: (
            admin_access.log_staff_view(_StaffRequest(), Order.objects.filter(customer=c).first())
            is None
        )
    ),
    "second erasure": lambda c, s: lambda: services.account_erase(customer=c) is None,
}


class _StaffRequest:
    class user:  # noqa: N801 (stands in for request.user)
        pk = None

        @staticmethod
        def get_username():
            return "staff"


def _raises(exc_type, fn, **kwargs) -> bool:
    try:
        fn(**kwargs)
    except exc_type:
        return True
    return False


def _waiting_on_a_lock() -> int:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(*) FROM pg_stat_activity "
            "WHERE datname = current_database() AND wait_event_type = 'Lock'"
        )
        return cursor.fetchone()[0]


@pytest.mark.parametrize("writer", sorted(WRITERS))
def test_a_write_during_an_erasure_waits_and_is_dropped(alice, shop, writer, monkeypatch):
    _seed(alice, shop, n=5)
    customer_id = alice.pk
    write = WRITERS[writer](alice, shop)
    held, release = threading.Event(), threading.Event()
    real_run_plan = services._run_plan
    eraser_ident: list[int] = []

    def run_plan_then_hold(plan):
        counts = real_run_plan(plan)
        if threading.get_ident() in eraser_ident:
            # Every kind but the customer and the user is deleted, nothing is committed.
            held.set()
            release.wait(WAIT)
        return counts

    monkeypatch.setattr(erasure, "_run_plan", run_plan_then_hold)
    outcome: dict = {}

    def erase():
        eraser_ident.append(threading.get_ident())
        try:
            outcome["receipt"] = services.account_erase(
                customer=Customer.objects.get(pk=customer_id)
            )
        except Exception as exc:  # the assertion below names it
            outcome["erasure error"] = exc

    def run_writer():
        try:
            outcome["answer"] = write()
        except Exception as exc:  # the assertion below names it
            outcome["writer error"] = exc

    eraser = _in_thread(erase)
    assert held.wait(WAIT)
    writing = _in_thread(run_writer)
    deadline = time.monotonic() + WAIT
    while writing.is_alive() and not _waiting_on_a_lock() and time.monotonic() < deadline:
        time.sleep(0.02)  # until the writer has finished or waits on a lock
    release.set()
    eraser.join(WAIT)
    writing.join(WAIT)
    connections.close_all()

    assert not eraser.is_alive() and not writing.is_alive()

    assert "erasure error" not in outcome and "writer error" not in outcome, outcome
    assert isinstance(outcome["receipt"], DeletionReceipt)
    assert outcome["answer"] is True or outcome["answer"] == 1, outcome
    assert _leftovers(customer_id) == {}
    assert DeletionReceipt.objects.count() == 1
