"""Retention: a sweep deletes what is past its period, with receipts (D6)."""

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone
from freezegun import freeze_time

from accounts.models import AuditEvent, Sensitivity
from ledger.models import Event, Order, OrderLine
from tests.factories import BrandFactory, EventFactory, OrderFactory, OrderLineFactory
from transparency import services
from transparency.models import DeletionReceipt


@pytest.fixture(autouse=True)
def _no_hooks(rec_calls):
    """Recommendations' own reactions are tested there; here only what is asked of them."""


def test_the_sweep_deletes_what_is_past_retention_and_keeps_the_rest(alice, bob):
    retail = BrandFactory(slug="shop", sensitivity=Sensitivity.RETAIL)
    bank = BrandFactory(slug="bank", sensitivity=Sensitivity.BANKING)
    with freeze_time("2026-01-01"):
        old_retail = EventFactory(customer=alice, brand=retail)
        old_bank = EventFactory(customer=alice, brand=bank)
        bobs = EventFactory(customer=bob, brand=retail)
        order = OrderFactory(customer=alice, brand=retail)
        OrderLineFactory(order=order)
    with freeze_time("2026-06-01"):  # 151 days later: past banking's 90, within retail's 365
        recent = EventFactory(customer=alice, brand=retail)
        deleted = services.retention_sweep()

        assert deleted == 1
        assert not Event.objects.filter(pk=old_bank.pk).exists()
        assert Event.objects.filter(pk__in=[old_retail.pk, recent.pk, bobs.pk]).count() == 3
        receipt = DeletionReceipt.objects.get(customer=alice)
        assert (receipt.scope, receipt.kinds) == ("retention", {"event": 1})

    with freeze_time("2027-01-02"):  # a year and a day after the first events
        services.retention_sweep()

        assert not Event.objects.filter(pk__in=[old_retail.pk, bobs.pk]).exists()
        assert Event.objects.filter(pk=recent.pk).exists()
        assert Order.objects.filter(pk=order.pk).exists()  # orders are kept 7 years
        assert OrderLine.objects.filter(order=order).exists()
        assert DeletionReceipt.objects.filter(customer=bob, scope="retention").count() == 1
        assert AuditEvent.objects.filter(
            customer=bob, actor_kind="system", reason="retention period ended"
        ).exists()


def test_a_second_sweep_finds_nothing(alice):
    with freeze_time("2026-01-01"):
        EventFactory(customer=alice)
    with freeze_time("2027-06-01"):
        assert services.retention_sweep() == 1
        assert services.retention_sweep() == 0
    assert DeletionReceipt.objects.count() == 1


def test_order_lines_go_with_their_order(alice):
    with freeze_time("2010-01-01"):
        order = OrderFactory(customer=alice)
        OrderLineFactory(order=order)

    services.retention_sweep()

    assert not Order.objects.filter(pk=order.pk).exists()
    receipt = DeletionReceipt.objects.get(customer=alice)
    assert receipt.kinds == {"order": 1, "order_line": 1}


def test_the_dashboard_shows_each_points_expiry(alice_client, alice):
    bank = BrandFactory(slug="bank", sensitivity=Sensitivity.BANKING)
    EventFactory(customer=alice, brand=bank, occurred_at=timezone.now() - timedelta(days=30))

    page = alice_client.get(reverse("dashboard:data_kind", args=["event"])).content.decode()

    assert "deleted in 60 days" in page


def test_the_task_runs_the_sweep(alice):
    from transparency.tasks import retention_sweep

    with freeze_time("2020-01-01"):
        EventFactory(customer=alice)

    assert retention_sweep.delay().get() == 1


def test_the_sweep_asks_for_a_retrain_without_what_expired(alice, rec_calls):
    """Expired rows that shaped a brand's model are withdrawn data, as a deletion is: the
    retrain asked for starts from no model that read them (recommendations' warm start)."""
    with freeze_time("2026-01-01"):
        old = EventFactory(customer=alice)
    with freeze_time("2027-06-01"):
        services.retention_sweep()
    asked = [kw for name, kw in rec_calls if name == "brand_retrain_request"]
    assert asked == [{"brand_id": old.brand_id, "reason": "retention sweep", "withdrawn": True}]
