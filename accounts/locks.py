"""One lock per customer: erasure is serialisable with everything that writes for them.

Erasure takes the customer's row `FOR UPDATE` as its first statement; every other writer
for that customer takes `FOR NO KEY UPDATE` on the same row at the start of its
transaction, then writes only for the customers still there. The two modes conflict, so a
write either commits before the erasure reads anything (and is erased with the rest) or
waits for it and finds the customer gone (and is dropped). Without it, a write committed
while an erasure runs slips past the erasure's deletes, and because Django's foreign keys
on PostgreSQL are DEFERRABLE INITIALLY DEFERRED, the erasure then fails at COMMIT and rolls
back whole.

Writers take the exclusive `NO KEY UPDATE`, not a shared mode, so two writers for the same
customer also run one after the other (a toggle and an ingested batch see each other's
result), and a queued erasure is not starved: PostgreSQL lets a shared locker overtake a
waiting `FOR UPDATE`. Rows are locked in primary-key order, so writers covering the same
customers cannot deadlock. On SQLite every transaction starts by taking the database's
write lock (`transaction_mode=IMMEDIATE`, settings), so the same call only tells which
customers still exist.
"""

from collections.abc import Iterable

from django.core.exceptions import PermissionDenied
from django.db import transaction

from .models import Customer

CHUNK = 10_000


class CustomerGone(PermissionDenied):
    """The customer was erased while this request was on its way; nothing was written.

    A PermissionDenied, so a page that runs into it answers 403, never 500."""


def customers_lock(customer_ids: Iterable[int], *, erasing: bool = False) -> set[int]:
    """Lock these customers for the rest of the transaction; return the ids still there.

    Call it first in the transaction, before reading anything the write depends on.
    """
    if not transaction.get_connection().in_atomic_block:
        raise RuntimeError("customers_lock must run inside the transaction of the write.")
    ids = sorted({int(pk) for pk in customer_ids})
    alive: set[int] = set()
    # Ascending chunks keep the global order (and SQLite's variable limit); a write batch
    # (at most 1,000 items) is one statement.
    for start in range(0, len(ids), CHUNK):
        alive.update(
            Customer.objects.filter(pk__in=ids[start : start + CHUNK])
            .order_by("pk")
            .select_for_update(no_key=not erasing)
            .values_list("pk", flat=True)
        )
    return alive


def customer_lock(customer_id: int) -> None:
    """Lock one customer for a write that cannot go ahead without them (CustomerGone)."""
    if not customers_lock([customer_id]):
        raise CustomerGone("This account no longer exists.")
