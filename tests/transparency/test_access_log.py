"""The access log: who read or changed which kind of your data, in plain words, by day."""

from datetime import timedelta

from django.db import transaction
from django.urls import reverse
from django.utils import timezone
from freezegun import freeze_time

from accounts.audit import Actor, audit_record
from accounts.models import AuditEvent
from tests.factories import BrandFactory
from transparency import selectors

CODES = ("transparency.retention_sweep", "recommendations.", "use_off", "use_on", "ingest")


def test_it_shows_you_staff_brands_and_tasks_in_words_and_nobody_elses_rows(
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
            actor=Actor.customer(alice),
            customer=alice,
            data_kind="consent",
            action="use_off",
            object_ref="personalization",
        )
        audit_record(
            actor=Actor.staff(charlie),
            customer=bob,
            data_kind="order",
            action="view",
            reason="bob-only-reason",
        )

    page = alice_client.get(reverse("dashboard:access_log")).content.decode()

    assert "Staff member charlie" in page
    assert "looked at your addresses (reason given: support ticket 12)" in page
    assert "Acme Shop&#x27;s systems" in page and "added to your activity" in page
    assert "The automatic clean-up" in page
    assert "deleted your activity that reached the end of its retention period" in page
    assert "switched off “Personalized recommendations”" in page
    assert "created your account" in page  # her sign-up
    assert "bob-only-reason" not in page
    assert not [code for code in CODES if code in page]


def test_a_recompute_reads_as_the_brands_recommendation_system_at_work(alice):
    brand = BrandFactory(name="Northwind")
    event = AuditEvent(
        customer=alice,
        actor_kind="system",
        actor_brand=brand,
        actor_label="recommendations.recompute_customer",
        data_kind="recommendation",
        action="recompute",
        reason="your data or choices changed",
    )

    assert selectors.access_sentence(event) == (
        "Northwind's recommendation system read your activity to update your suggestions"
    )


def test_it_groups_by_day_then_by_who_acted_and_counts_repeats(alice_client, alice):
    with freeze_time(timezone.now() - timedelta(days=3)):
        AuditEvent.objects.create(
            customer=alice, actor_kind="system", actor_label="demo_data", data_kind="event",
            action="create",
        )  # fmt: skip
    AuditEvent.objects.bulk_create(
        AuditEvent(
            customer=alice,
            actor_kind="system",
            actor_label="recommendations.recompute_customer",
            data_kind="recommendation",
            action="recompute",
        )
        for _ in range(3)
    )

    days = selectors.access_log_days(selectors.access_log(customer=alice).object_list)

    assert [d.label for d in days][0] == "Today"
    assert len(days) == 2
    today = {a.who: [(line.what, line.times) for line in a.lines] for a in days[0].actors}
    assert today["The recommendation system"] == [
        ("read your activity to update your suggestions", 3)
    ]
    assert today["You"] == [("created your account", 1)]
    assert [a.who for a in days[1].actors] == ["The demo set-up"]
    page = alice_client.get(reverse("dashboard:access_log")).content.decode()
    assert "3 times" in page


def test_it_is_paged(alice_client, alice):
    AuditEvent.objects.bulk_create(
        AuditEvent(customer=alice, actor_kind="system", data_kind="event", action="read")
        for _ in range(120)
    )

    first = alice_client.get(reverse("dashboard:access_log")).content.decode()
    last = alice_client.get(reverse("dashboard:access_log"), {"page": 3}).content.decode()

    assert "Page 1 of 3" in first
    # 121 rows with her sign-up, 50 a page: the last page's 20 reads are one repeated line.
    assert "An automated process" in last and "read your activity" in last
    assert "20 times" in last and "created your account" in last
