"""The consent history is a hash chain: verify passes, and fails after a row is edited."""

import json

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection
from django.urls import reverse

from accounts.models import ConsentEvent
from tests.standards.db import raw_sql_past_triggers as raw_sql
from transparency import services
from transparency.standards.chain import chain_verify


def _history(customer):
    for purpose, granted in (("personalization", False), ("contact", False), ("contact", True)):
        services.purpose_set_granted(customer=customer, purpose=purpose, granted=granted)
    return list(ConsentEvent.objects.filter(customer=customer).order_by("pk"))


def test_each_row_carries_the_hash_of_the_one_before(alice):
    rows = _history(alice)

    assert rows[0].prev_hash == ""
    assert [r.prev_hash for r in rows[1:]] == [r.hash for r in rows[:-1]]
    assert chain_verify(customer_id=alice.pk).ok


def test_editing_a_row_in_the_database_breaks_the_chain(alice, alice_client):
    rows = _history(alice)
    table = ConsentEvent._meta.db_table
    raw_sql(f"UPDATE {table} SET granted = %s WHERE id = %s", [True, rows[1].pk])

    result = chain_verify(customer_id=alice.pk)
    assert not result.ok and result.broken[0][0] == rows[1].pk
    answer = json.loads(alice_client.get(reverse("dashboard:consent_chain")).content)
    assert answer["ok"] is False and answer["rows"] == 3
    with pytest.raises(CommandError):
        call_command("verify_consent_chain")


def test_removing_a_row_breaks_the_chain(alice):
    rows = _history(alice)
    raw_sql(f"DELETE FROM {ConsentEvent._meta.db_table} WHERE id = %s", [rows[0].pk])

    assert chain_verify(customer_id=alice.pk).broken[0][0] == rows[1].pk


def test_the_customer_endpoint_and_the_command_pass_on_an_intact_chain(alice, bob, alice_client):
    _history(alice)
    _history(bob)

    assert json.loads(alice_client.get(reverse("dashboard:consent_chain")).content) == {
        "ok": True,
        "rows": 3,
        "broken": [],
    }
    call_command("verify_consent_chain", customer=str(alice.public_id))
    call_command("verify_consent_chain")
    assert connection.vendor in ("sqlite", "postgresql")
