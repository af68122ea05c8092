"""Every value is checked at the edge against what the columns and Python can hold (G3).

A value outside them is a 422 naming the item and the field, and nothing of the batch is
stored; a value at the very edge is stored as sent (times in UTC).
"""

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest

from accounts.models import AuditEvent
from ledger.models import Event, Order, OrderLine, Product
from tests.ledger.ingest_helpers import event, order, post


def _soon(**delta) -> str:
    return (datetime.now(UTC) + timedelta(**delta)).isoformat()


def _assert_rejected(response, index, field):
    assert response.status_code == 422, response.content
    body = response.json()
    assert (body["index"], body["field"]) == (index, field), body
    assert f"item {index}" in body["error"] and field in body["error"]


BAD_TIMES = [
    "0001-01-01T00:00:00+14:00",  # 1 BC in UTC
    "9999-12-31T23:59:59-14:00",  # year 10000 in UTC
    "0001-01-01T00:00:00Z",
    "1969-12-31T23:59:59Z",
    "1970-01-01T00:30:00+01:00",  # 1969 in UTC
    "9999-12-31T23:59:59Z",
    "2026-03-01T10:00:00",  # no offset
]


@pytest.mark.parametrize("when", BAD_TIMES + ["future"])
def test_it_refuses_an_event_time_outside_the_window(client, key, shopper, shoe, when):
    when = _soon(days=1, minutes=5) if when == "future" else when
    items = [event(n) for n in range(3)]
    items[2]["occurred_at"] = when

    response = post(client, "events", {"items": items}, key)

    _assert_rejected(response, 2, "occurred_at")
    assert Event.objects.count() == 0
    assert AuditEvent.objects.filter(data_kind="event").count() == 0


@pytest.mark.parametrize("when", BAD_TIMES)
def test_it_refuses_an_order_time_outside_the_window(client, key, shopper, shoe, when):
    items = [order(1), order(2, placed_at=when)]

    response = post(client, "orders", {"items": items}, key)

    _assert_rejected(response, 1, "placed_at")
    assert Order.objects.count() == 0


def test_it_stores_times_at_the_edges_of_the_window_in_utc(client, key, shopper, shoe):
    soon = datetime.now(UTC) + timedelta(hours=23)
    items = [
        event(1, occurred_at="1970-01-01T00:00:00Z"),
        event(2, occurred_at="1970-01-01T14:00:00+14:00"),
        event(3, occurred_at=soon.astimezone(UTC).replace(tzinfo=None).isoformat() + "-00:00"),
    ]

    response = post(client, "events", {"items": items}, key)

    assert response.status_code == 200, response.content
    stored = dict(Event.objects.values_list("external_id", "occurred_at"))
    assert stored["ev-1"] == stored["ev-2"] == datetime(1970, 1, 1, tzinfo=UTC)
    assert abs(stored["ev-3"] - soon) < timedelta(seconds=1)


def test_an_order_whose_computed_total_overflows_is_refused_not_a_server_error(
    client, key, shopper, shoe
):
    huge = {"product_ref": "shoe", "quantity": 100_000, "unit_price": "99999999.99"}
    items = [order(1), order(2, lines=[huge, huge])]

    response = post(client, "orders", {"items": items}, key)

    _assert_rejected(response, 1, "total")
    assert "12 digits" in response.json()["error"]
    assert Order.objects.count() == OrderLine.objects.count() == 0


def test_an_order_total_at_the_column_limit_is_stored(client, key, shopper, shoe):
    line = {"product_ref": "shoe", "quantity": 100, "unit_price": "99999999.99"}

    response = post(client, "orders", {"items": [order(1, lines=[line])]}, key)

    assert response.status_code == 200, response.content
    assert Order.objects.get().total == Decimal("9999999999.00")


@pytest.mark.parametrize(
    "endpoint, item, field",
    [
        ("products", {"price": "100000000.00"}, "price"),
        ("products", {"price": "1.001"}, "price"),
        ("products", {"price": "-1"}, "price"),
        ("products", {"price": "Infinity"}, "price"),
        ("products", {"name": "x" * 201}, "name"),
        ("products", {"category": "é" * 101}, "category"),
        ("products", {"name": "bad\x00name"}, "name"),
        ("products", {"name": "half \ud800 pair"}, "name"),
        ("products", {"external_id": "\udfff"}, "external_id"),
        ("orders", {"total": "10000000000.00"}, "total"),
        ("orders", {"currency": "eur"}, "currency"),
        ("orders", {"external_id": "y" * 101}, "external_id"),
        ("orders", {"customer_ref": "cust-\ud83d"}, "customer_ref"),
        ("orders", {"lines": [{"product_ref": "shoe", "unit_price": "1", "quantity": 2**31}]},
         "lines.0.quantity"),
        ("orders", {"lines": [{"product_ref": "shoe", "unit_price": "1", "quantity": 0}]},
         "lines.0.quantity"),
        ("orders", {"lines": [{"product_ref": "shoe", "unit_price": "1e12"}]},
         "lines.0.unit_price"),
        ("events", {"query": "q" * 201}, "query"),
        ("events", {"query": "\ud800"}, "query"),
        ("events", {"value": 1e300}, "value"),
        ("customers", {"external_ref": "r" * 101}, "external_ref"),
        ("customers", {"external_ref": "\ud800"}, "external_ref"),
    ],
)  # fmt: skip
def test_it_refuses_values_the_columns_cannot_hold(
    client, key, shopper, shoe, endpoint, item, field
):
    make = {
        "products": lambda n: {"external_id": f"p-{n}", "name": f"P {n}", "price": "1.00"},
        "orders": order,
        "events": event,
        "customers": lambda n: {"external_ref": f"c-{n}"},
    }[endpoint]
    items = [make(n) for n in range(3)]
    items[1].update(item)
    before = Product.objects.count()

    response = post(client, endpoint, {"items": items}, key)

    _assert_rejected(response, 1, field)
    assert Product.objects.count() == before
    assert Order.objects.count() == Event.objects.count() == 0
    assert not AuditEvent.objects.filter(action="ingest").exists()


def test_an_offset_postgresql_cannot_take_is_stored_converted_to_utc(client, key, shopper, shoe):
    # PostgreSQL refuses UTC offsets beyond ±15:59; Python's go to ±23:59 (found by hypothesis).
    items = [event(1, occurred_at="2000-05-28T12:35:37+21:34")]

    response = post(client, "events", {"items": items}, key)

    assert response.status_code == 200, response.content
    assert Event.objects.get().occurred_at == datetime(2000, 5, 27, 15, 1, 37, tzinfo=UTC)
