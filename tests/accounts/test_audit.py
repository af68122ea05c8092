import pytest
from django.db import transaction

from accounts.audit import Actor, audit_record
from accounts.models import AuditEvent


@pytest.mark.django_db(transaction=True)
def test_audit_rows_are_written_only_inside_the_change_transaction(alice):
    with pytest.raises(RuntimeError, match="inside the transaction"):
        audit_record(actor=Actor.system("test"), customer=alice, data_kind="account", action="view")


def test_audit_rows_are_append_only(alice):
    event = AuditEvent.objects.filter(customer=alice).first()
    event.action = "tampered"

    with pytest.raises(ValueError, match="append-only"):
        event.save()


def test_a_rolled_back_change_leaves_no_audit_row(alice):
    before = AuditEvent.objects.count()

    with pytest.raises(LookupError), transaction.atomic():
        audit_record(
            actor=Actor.customer(alice), customer=alice, data_kind="account", action="update"
        )
        raise LookupError("the change failed")

    assert AuditEvent.objects.count() == before


def test_actors_are_described_for_the_customer(alice, charlie):
    with transaction.atomic():
        event = audit_record(
            actor=Actor.staff(charlie),
            customer=alice,
            data_kind="account",
            action="view",
            reason="support ticket",
        )

    assert (event.actor_kind, event.actor_label, event.reason) == (
        "staff",
        "charlie",
        "support ticket",
    )
