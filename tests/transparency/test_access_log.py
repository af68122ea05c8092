"""The access log: who read or changed which kind of your data, when and why."""

from django.db import transaction
from django.urls import reverse

from accounts.audit import Actor, audit_record
from tests.factories import BrandFactory


def test_it_shows_you_staff_brands_and_tasks_and_nobody_elses_rows(
    alice_client, alice, bob, charlie
):
    brand = BrandFactory(name="Acme Shop")
    with transaction.atomic():
        audit_record(
            actor=Actor.staff(charlie),
            customer=alice,
            data_kind="address",
            action="view",
            reason="support ticket 12",
        )
        audit_record(actor=Actor.brand(brand), customer=alice, data_kind="event", action="create")
        audit_record(
            actor=Actor.system("transparency.retention_sweep"),
            customer=alice,
            data_kind="event",
            action="delete",
        )
        audit_record(
            actor=Actor.staff(charlie),
            customer=bob,
            data_kind="order",
            action="view",
            reason="bob-only-reason",
        )

    page = alice_client.get(reverse("dashboard:access_log")).content.decode()

    assert "Staff member charlie" in page and "support ticket 12" in page and "Addresses" in page
    assert "Acme Shop (server key)" in page
    assert "Automated task (transparency.retention_sweep)" in page
    assert "You" in page  # her sign-up
    assert "bob-only-reason" not in page


def test_it_is_paged(alice_client, alice):
    from accounts.models import AuditEvent

    AuditEvent.objects.bulk_create(
        AuditEvent(customer=alice, actor_kind="system", data_kind="event", action="read")
        for _ in range(120)
    )

    first = alice_client.get(reverse("dashboard:access_log")).content.decode()
    last = alice_client.get(reverse("dashboard:access_log"), {"page": 3}).content.decode()

    assert "Page 1 of 3" in first
    assert last.count("<tr>") == 1 + 21  # header + 121 rows - 100
