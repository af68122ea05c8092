"""The audit writer speaks the vocabulary: an action or data kind it does not declare is
refused, so every access-log row can be worded."""

import pytest
from django.db import transaction

from accounts.audit import Actor, AuditEntry, audit_record, audit_record_many
from accounts.models import AuditEvent
from transparency.registry import AuditAction

SYSTEM = Actor.system("tests")


@pytest.mark.django_db
def test_an_unknown_action_is_refused(alice):
    with transaction.atomic():
        with pytest.raises(ValueError, match="action"):
            audit_record(actor=SYSTEM, customer=alice, data_kind="event", action="poke")
        with pytest.raises(ValueError, match="action"):
            audit_record_many(
                actor=SYSTEM,
                entries=[AuditEntry(customer_id=alice.pk, data_kind="event", action="poke")],
            )
    assert not AuditEvent.objects.filter(action="poke").exists()


@pytest.mark.django_db
def test_an_unknown_data_kind_is_refused(alice):
    with transaction.atomic():
        with pytest.raises(ValueError, match="data kind"):
            audit_record(actor=SYSTEM, customer=alice, data_kind="shoe_size", action="read")
        with pytest.raises(ValueError, match="data kind"):
            audit_record_many(
                actor=SYSTEM,
                entries=[AuditEntry(customer_id=alice.pk, data_kind="event,bogus", action="read")],
            )


@pytest.mark.django_db
def test_declared_values_are_written_as_plain_strings(alice):
    before = set(AuditEvent.objects.values_list("pk", flat=True))
    with transaction.atomic():
        audit_record(actor=SYSTEM, customer=alice, data_kind="event", action=AuditAction.READ)
        audit_record(actor=SYSTEM, customer=alice, data_kind="all", action="export")
        audit_record_many(
            actor=SYSTEM,
            entries=[AuditEntry(customer_id=alice.pk, data_kind="order,event", action="delete")],
        )

    written = AuditEvent.objects.exclude(pk__in=before).values_list("data_kind", "action")
    assert sorted(written) == [
        ("all", "export"),
        ("event", "read"),
        ("order,event", "delete"),
    ]
