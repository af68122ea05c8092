"""Consent history is kept: every change is one immutable row with time and channel (E2)."""

import pytest

from accounts.models import ConsentEvent
from transparency import services


@pytest.fixture(autouse=True)
def _no_hooks(rec_calls):
    """Recommendations' own reactions are tested there; here only what is asked of them."""


def test_every_change_adds_one_row_with_time_channel_and_actor(alice):
    services.purpose_set_granted(customer=alice, purpose="contact", granted=False)
    services.purpose_set_granted(customer=alice, purpose="contact", granted=True)
    services.purpose_set_granted(customer=alice, purpose="contact", granted=True)  # no change
    services.kind_set_in_use(customer=alice, kind_name="event", in_use=False)

    rows = list(ConsentEvent.objects.filter(customer=alice).order_by("id"))
    assert [(r.purpose, r.data_kind, r.granted) for r in rows] == [
        ("contact", "", False),
        ("contact", "", True),
        ("", "event", False),
    ]
    assert all(r.channel == "dashboard" and r.actor_label == "you" and r.created_at for r in rows)


def test_a_history_row_cannot_be_changed(alice):
    services.purpose_set_granted(customer=alice, purpose="contact", granted=False)
    row = ConsentEvent.objects.get(customer=alice)
    row.granted = True

    with pytest.raises(ValueError, match="immutable"):
        row.save()
    row.refresh_from_db()
    assert row.granted is False
