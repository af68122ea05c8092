"""Two dispatchers at once (two threads, two database connections): every due message is
claimed by exactly one of them and arrives exactly once."""

import threading
from collections import Counter

from django.db import connection, connections

from ledger.messages.api import MessageIn
from ledger.messages.dispatch import messages_dispatch
from ledger.messages.services import messages_create
from ledger.models import Message

from .conftest import message

N = 240


def test_two_dispatchers_racing_send_each_message_once(transactional_db, smtp, ada, northwind):
    messages_create(
        brand=northwind.brand,
        items=[MessageIn(**message(external_id=f"m-{i}", subject=f"Note {i}")) for i in range(N)],
    )
    barrier = threading.Barrier(2)
    results, errors = [], []

    def run():
        try:
            barrier.wait(timeout=10)
            results.append(messages_dispatch(limit=N))
        except Exception as exc:  # reported below: a thread's failure must fail the test
            errors.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=run) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)

    assert errors == []
    assert sum(r.sent for r in results) == N
    subjects = Counter(m["Subject"] for m in smtp.mails)
    assert len(subjects) == N and set(subjects.values()) == {1}
    assert Message.objects.filter(state="sent").count() == N
    if connection.vendor == "postgresql":  # both took part (SKIP LOCKED, not one waiting)
        assert all(r.sent for r in results), [r.sent for r in results]
