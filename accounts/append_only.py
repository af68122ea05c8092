"""The one path allowed to change or remove audit and consent history rows.

In PostgreSQL, triggers (django-pgtrigger, declared on AuditEvent and ConsentEvent) refuse
every UPDATE and DELETE of those tables, whoever sends it: the ORM, raw SQL, a psql
session. Two operations legitimately need to get past them, and only they call
`history_rewrite`:

- whole-account erasure (transparency.services.account_erase): the customer's access log
  and consent history go with the account (GDPR Art. 17);
- connecting a brand's record (transparency.connect): the record's rows move to the
  signed-in customer (customer_id changes; the content, and so the hash chain, does not).

`pgtrigger.ignore` sets a transaction-local setting (`pgtrigger.ignore`) that only these
two triggers check, on this connection only, and only for the statements run inside the
block. SQLite has no triggers: there the models' `save()` guard is what holds.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

import pgtrigger

APPEND_ONLY_TRIGGERS = (
    "accounts.AuditEvent:append_only_delete",
    "accounts.AuditEvent:append_only_update",
    "accounts.AuditEvent:append_only_actor",
    "accounts.ConsentEvent:append_only",
)
ALLOWED_REASONS = {"erasure", "connect"}


@contextlib.contextmanager
def history_rewrite(*, reason: str) -> Iterator[None]:
    if reason not in ALLOWED_REASONS:
        raise ValueError(f"history can only be rewritten for {sorted(ALLOWED_REASONS)}")
    with pgtrigger.ignore(*APPEND_ONLY_TRIGGERS):
        yield
