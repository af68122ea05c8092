"""The DSR console: deadlines (one month; once extended by up to two), state, days left,
brand confirmations, median and p95 time to complete, CSV, audited staff actions."""

import csv
import io
from datetime import UTC, datetime, timedelta

import pytest
from django.urls import reverse
from freezegun import freeze_time

from accounts.models import AuditEvent
from tests.factories import BrandFactory
from transparency.models import (
    DataRequest,
    DataRequestKind,
    DataRequestState,
    DeletionReceipt,
    ErasureNotice,
)
from transparency.standards import dsr


def at(*args) -> datetime:
    return datetime(*args, tzinfo=UTC)


@pytest.fixture
def logged(alice, charlie):
    with freeze_time(at(2026, 1, 31, 10)):
        return dsr.dsr_create(customer=alice, kind=DataRequestKind.ACCESS, staff=charlie)


def test_the_deadline_is_one_month_clamped_to_the_months_end(logged):
    assert logged.deadline == at(2026, 2, 28, 10)  # Jan 31 + one month


def test_days_left_and_thresholds(logged):
    assert dsr.days_left(logged, at(2026, 2, 1, 10)) == 27
    assert dsr.urgency(logged, at(2026, 2, 1, 10)) == "ok"
    assert dsr.urgency(logged, at(2026, 2, 22, 10)) == "soon"  # 6 days left
    assert dsr.urgency(logged, at(2026, 3, 1, 10)) == "overdue"
    assert dsr.days_left(logged, at(2026, 3, 3, 10)) == -3


def test_it_extends_once_by_up_to_two_months_with_a_reason(logged, charlie, alice):
    with freeze_time(at(2026, 2, 20)):
        with pytest.raises(dsr.DsrRefused, match="reason"):
            dsr.dsr_extend(request_id=logged.pk, staff=charlie, until=at(2026, 4, 1), reason=" ")
        with pytest.raises(dsr.DsrRefused, match="two further months"):
            dsr.dsr_extend(
                request_id=logged.pk, staff=charlie, until=at(2026, 4, 28, 10, 1), reason="many"
            )
        extended = dsr.dsr_extend(
            request_id=logged.pk, staff=charlie, until=at(2026, 4, 28, 10), reason="many systems"
        )
        with pytest.raises(dsr.DsrRefused, match="only once"):
            dsr.dsr_extend(
                request_id=logged.pk, staff=charlie, until=at(2026, 4, 1), reason="again"
            )

    assert extended.due == at(2026, 4, 28, 10)
    assert dsr.urgency(extended, at(2026, 3, 15)) == "ok"  # past the first deadline, not late
    assert dsr.days_left(extended, at(2026, 4, 27, 10)) == 1
    logged_row = AuditEvent.objects.get(customer=alice, action="extend")
    assert "many systems" in logged_row.reason and logged_row.actor_user == charlie


def test_state_changes_are_audited_and_done_stops_the_clock(logged, charlie, alice):
    with freeze_time(at(2026, 2, 3, 10)):
        assert dsr.dsr_set_state(request_id=logged.pk, staff=charlie, state="done")
        assert not dsr.dsr_set_state(request_id=logged.pk, staff=charlie, state="done")

    logged.refresh_from_db()
    assert logged.completed_at == at(2026, 2, 3, 10)
    assert dsr.urgency(logged, at(2026, 9, 1)) == "done"
    assert AuditEvent.objects.filter(customer=alice, action="request_done").count() == 1


def test_median_and_p95_time_to_complete(alice):
    start = at(2026, 1, 1)
    for hours in [1, 2, 3, 4, 5, 6, 7, 8, 9, 100]:
        DataRequest.objects.create(
            customer=alice,
            kind=DataRequestKind.EXPORT,
            state=DataRequestState.DONE,
            received_at=start,
            completed_at=start + timedelta(hours=hours),
        )
    DataRequest.objects.create(customer=alice, kind=DataRequestKind.ACCESS, received_at=start)

    stats = dsr.dsr_stats()

    assert stats["all"] == {"count": 10, "median_hours": 5.0, "p95_hours": 100.0}


def test_brand_confirmations_from_the_bridge(alice):
    receipt = DeletionReceipt.objects.create(scope="account", kinds={}, requested_at=at(2026, 1, 1))
    DataRequest.objects.create(
        kind=DataRequestKind.ERASURE,
        state=DataRequestState.DONE,
        received_at=at(2026, 1, 1),
        completed_at=at(2026, 1, 1),
        receipt=receipt,
    )
    for i, confirmed in enumerate([at(2026, 1, 2), None, at(2026, 1, 3)]):
        ErasureNotice.objects.create(
            receipt=receipt,
            brand=BrandFactory(slug=f"b{i}"),
            event_id=f"msg_{i}",
            requested_at=at(2026, 1, 1),
            confirmed_at=confirmed,
        )

    (row,) = dsr.dsr_rows()
    assert row.confirmations == "2 of 3 brands confirmed"


def test_the_console_and_csv_for_staff(staff_client, logged):
    page = staff_client.get(reverse("dsr_console"))
    assert page.status_code == 200
    assert "Access (Art. 15" in page.content.decode()

    response = staff_client.get(reverse("dsr_console_csv"))
    rows = list(csv.DictReader(io.StringIO(response.content.decode())))
    assert rows[0]["kind"] == "access" and rows[0]["deadline"].startswith("2026-02-28")


def test_staff_act_through_the_console(staff_client, logged, alice):
    response = staff_client.post(
        reverse("dsr_console"),
        {"action": "extend", "request": logged.pk, "until": "2026-04-10", "reason": "complex"},
    )
    assert response.status_code == 302
    logged.refresh_from_db()
    assert logged.extended_until.date().isoformat() == "2026-04-10"
    assert AuditEvent.objects.filter(customer=alice, action="extend").exists()


def test_customers_cannot_reach_the_console(alice_client):
    assert alice_client.get(reverse("dsr_console")).status_code == 302
    assert alice_client.get(reverse("dsr_console_csv")).status_code == 302


def test_the_admin_overdue_filter_uses_the_extended_deadline(staff_client, alice, charlie):
    late = dsr.dsr_create(
        customer=alice, kind=DataRequestKind.ACCESS, staff=charlie, received_at=at(2020, 1, 1)
    )
    extended = dsr.dsr_create(
        customer=alice, kind=DataRequestKind.CORRECTION, staff=charlie, received_at=at(2020, 1, 1)
    )
    DataRequest.objects.filter(pk=extended.pk).update(extended_until=at(2099, 1, 1))

    page = staff_client.get(
        reverse("admin:transparency_datarequest_changelist"), {"overdue": "yes"}
    ).content.decode()

    assert f"/{late.pk}/change/" in page
    assert f"/{extended.pk}/change/" not in page
