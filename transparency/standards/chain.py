"""Verifying a customer's consent history chain (written by accounts.consent_history).

A row passes when its stored hash is the hash of its content, and its `prev_hash` is
empty (the start of a chain) or the hash of an earlier row of the same customer that no
other row already follows. A customer can hold more than one chain start: connecting a
brand's record brings that record's own history along (transparency.connect).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from accounts.consent_history import consent_event_digest
from accounts.models import ConsentEvent


@dataclass
class ChainResult:
    rows: int = 0
    # (row id, why) for each row that does not fit; empty when the chain holds.
    broken: list[tuple[int, str]] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.broken

    def as_dict(self) -> dict:
        return {
            "ok": self.ok,
            "rows": self.rows,
            "broken": [{"id": pk, "reason": why} for pk, why in self.broken],
        }


def chain_verify(*, customer_id: int) -> ChainResult:
    result = ChainResult()
    seen: set[str] = set()
    followed: set[str] = set()
    rows = ConsentEvent.objects.filter(customer_id=customer_id).order_by("pk")
    for event in rows.iterator(chunk_size=2000):
        result.rows += 1
        if consent_event_digest(event) != event.hash:
            result.broken.append((event.pk, "content does not match its hash"))
        elif event.prev_hash and event.prev_hash not in seen:
            result.broken.append((event.pk, "the row before it is missing or was changed"))
        elif event.prev_hash and event.prev_hash in followed:
            result.broken.append((event.pk, "another row already follows the same row"))
        seen.add(event.hash)
        if event.prev_hash:
            followed.add(event.prev_hash)
    return result
