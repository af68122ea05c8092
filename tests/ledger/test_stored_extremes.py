"""A row already stored with a time Python cannot hold must not take any page down.

PostgreSQL keeps timestamps from 4713 BC to 294276 AD and `infinity`; Python's datetime
stops at years 1 and 9999. Such rows can only come from outside the ingest (raw SQL, an old
release, a restore), so they are written here by raw SQL.
"""

from datetime import UTC, datetime

import pytest
from django.core.management import call_command
from django.db import connection

from accounts.models import AuditEvent
from ledger.models import Event, Order
from ledger.storedtimes import READ_LOW
from tests.factories import OrderFactory, OrderLineFactory
from tests.ledger.customer_pages import every_page
from tests.widget import Shop

pytestmark = [pytest.mark.django_db, pytest.mark.postgres]

EXTREMES = [
    "0001-01-01 00:00:00+14",  # 1 BC in UTC: before Python's year 1
    "9999-12-31 23:59:59-14",  # year 10000 in UTC: after Python's year 9999
    "infinity",
    "-infinity",
    "294276-12-31 00:00:00+00",
    "9999-06-01 00:00:00+00",  # Python holds it, but a year of retention added overflows
]


def _poison(table: str, column: str, pk: int, value: str) -> None:
    with connection.cursor() as cursor:
        cursor.execute(
            f'UPDATE "{table}" SET "{column}" = %s::timestamptz WHERE id = %s',  # noqa: S608
            [value, pk],
        )


@pytest.mark.parametrize("value", EXTREMES)
def test_a_stored_time_python_cannot_hold_takes_no_page_down(alice, alice_client, value):
    shop = Shop("shop-a")
    shop.link(alice, "cust-alice")
    recs = shop.recommend(alice)
    order = OrderFactory(customer=alice, brand=shop.brand)
    OrderLineFactory(order=order, product=shop.products[0])
    event_pk = recs[0].explanation[0]["pk"]
    _poison("ledger_event", "occurred_at", event_pk, value)
    _poison("ledger_order", "placed_at", order.pk, value)

    statuses = every_page(alice_client)
    widget = shop.get(alice_client, token=shop.token("cust-alice"))

    assert {name: s for name, s in statuses.items() if s != 200} == {}
    assert widget.status_code == 200
    assert Event.objects.get(pk=event_pk).occurred_at is not None
    assert Order.objects.get(pk=order.pk).placed_at is not None


def test_the_check_command_flags_and_repairs_out_of_window_rows(alice, capsys):
    shop = Shop("shop-a")
    shop.link(alice, "cust-alice")
    recs = shop.recommend(alice)
    event_pk = recs[0].explanation[0]["pk"]
    kept_pk = recs[1].explanation[0]["pk"]
    kept = Event.objects.get(pk=kept_pk).occurred_at
    _poison("ledger_event", "occurred_at", event_pk, "0001-01-01 00:00:00+14")

    call_command("ledger_check_times")
    assert "ledger.Event.occurred_at: 1 row out of the window" in capsys.readouterr().out
    assert Event.objects.get(pk=event_pk).occurred_at == READ_LOW  # flagged, not changed

    call_command("ledger_check_times", "--repair")
    assert "repaired" in capsys.readouterr().out
    repaired = Event.objects.get(pk=event_pk)
    assert repaired.occurred_at == datetime(1970, 1, 1, tzinfo=UTC)
    audit = AuditEvent.objects.get(customer=alice, actor_label="ledger_check_times")
    assert (audit.data_kind, audit.action) == ("event", "update")
    assert Event.objects.get(pk=kept_pk).occurred_at == kept

    call_command("ledger_check_times")
    assert "out of the window" not in capsys.readouterr().out
