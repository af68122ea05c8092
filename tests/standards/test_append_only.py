"""Audit and consent history refuse UPDATE and DELETE in PostgreSQL itself; erasure and
connecting a brand's record go through the one allowed path (accounts.append_only)."""

import pytest
from django.db import DatabaseError, transaction

from accounts.append_only import history_rewrite
from accounts.audit import Actor, audit_record
from accounts.models import AuditEvent, ConsentEvent
from tests.factories import BrandFactory, UserFactory
from tests.standards.db import raw_sql
from transparency import services

pytestmark = pytest.mark.postgres

AUDIT = AuditEvent._meta.db_table
HISTORY = ConsentEvent._meta.db_table


def _rows(customer):
    with transaction.atomic():
        services.purpose_set_granted(customer=customer, purpose="contact", granted=False)
    return AuditEvent.objects.filter(customer=customer).first(), ConsentEvent.objects.get(
        customer=customer
    )


@pytest.mark.parametrize(
    "sql",
    [
        f"UPDATE {AUDIT} SET reason = 'edited' WHERE id = %s",
        f"DELETE FROM {AUDIT} WHERE id = %s",
        f"UPDATE {AUDIT} SET customer_id = NULL WHERE id = %s",
    ],
)
def test_raw_sql_cannot_change_the_access_log(alice, sql, rec_calls):
    audit, _ = _rows(alice)

    with pytest.raises(DatabaseError), transaction.atomic():
        raw_sql(sql, [audit.pk])
    assert AuditEvent.objects.get(pk=audit.pk).reason == audit.reason


@pytest.mark.parametrize(
    "sql",
    [
        f"UPDATE {HISTORY} SET granted = true WHERE id = %s",
        f"DELETE FROM {HISTORY} WHERE id = %s",
    ],
)
def test_raw_sql_cannot_change_the_consent_history(alice, sql, rec_calls):
    _, event = _rows(alice)

    with pytest.raises(DatabaseError), transaction.atomic():
        raw_sql(sql, [event.pk])
    assert ConsentEvent.objects.get(pk=event.pk).granted is False


def test_the_orm_cannot_either(alice, rec_calls):
    _rows(alice)

    with pytest.raises(DatabaseError), transaction.atomic():
        ConsentEvent.objects.filter(customer=alice).update(channel="forged")
    with pytest.raises(DatabaseError), transaction.atomic():
        AuditEvent.objects.filter(customer=alice).delete()


def test_an_actor_link_may_only_be_cleared(alice, charlie, rec_calls):
    brand = BrandFactory()
    with transaction.atomic():
        row = audit_record(
            actor=Actor.brand(brand), customer=alice, data_kind="event", action="ingest"
        )
    # Deleting the brand clears the link (SET_NULL); the row stays.
    brand.delete()
    assert AuditEvent.objects.get(pk=row.pk).actor_brand_id is None
    with pytest.raises(DatabaseError), transaction.atomic():
        raw_sql(f"UPDATE {AUDIT} SET actor_user_id = %s WHERE id = %s", [charlie.pk, row.pk])


def test_erasure_still_removes_them(alice, bob, rec_calls):
    _rows(alice)
    _rows(bob)

    services.account_erase(customer=alice)

    assert not ConsentEvent.objects.filter(customer_id=alice.pk).exists()
    assert not AuditEvent.objects.filter(customer_id=alice.pk).exists()
    assert ConsentEvent.objects.filter(customer=bob).count() == 1  # bob's stay
    # The erasure's own record is written, and protected like the rest.
    erase = AuditEvent.objects.get(action="erase")
    with pytest.raises(DatabaseError), transaction.atomic():
        raw_sql(f"DELETE FROM {AUDIT} WHERE id = %s", [erase.pk])


def test_the_allowed_path_is_only_for_erasure_and_connect():
    with pytest.raises(ValueError), history_rewrite(reason="tidy-up"):
        pass


def test_deleting_a_staff_user_keeps_what_they_did(alice, rec_calls):
    staff = UserFactory(username="dora")
    with transaction.atomic():
        row = audit_record(
            actor=Actor.staff(staff), customer=alice, data_kind="address", action="view"
        )
    staff.delete()

    kept = AuditEvent.objects.get(pk=row.pk)
    assert kept.actor_user_id is None and kept.actor_label == "dora"
