"""What may shape a customer's personal results right now: the one read every reader uses.

Stored results (recommendations, interests, contact hours) were computed from the data
allowed *then*; a switch flipped since must act on the very next read, whether or not the
recompute has run ("off means off", invariant 2). So the dashboard page, the widget, the
explanations and the export's "in use" flags all ask this module, which reads the switches
themselves at the moment of asking:

* purposes: the customer's PurposeConsent rows, or the brand's sensitivity default;
* kinds: KindSetting rows ("keep but don't use"), with when each was switched off, so a
  derived row computed before that moment is not shown while one recomputed after is;
* points: each cited row's own `in_use` (and an order cited as a gift never counts).

Two queries at most for any number of customers: one for the purpose and kind switches,
one per cited table for the points.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime

from django.db.models import CharField, Value

from accounts.models import KindSetting, Purpose, PurposeConsent, Sensitivity
from accounts.profiles import purpose_default
from ledger.models import Event, Order

PERSONALIZATION = Purpose.PERSONALIZATION.value
CONTACT = Purpose.CONTACT.value
# The kinds a personal result can cite, and every kind whose rows feed a cited point: an
# order is read through its lines, so either switched off stops the order counting.
CITED_KINDS = {"event": ("event",), "order": ("order", "order_line")}
# Kinds the models read (switching one off, or deleting from it, calls for a retrain).
MODEL_KINDS = ("event", "order", "order_line")


@dataclass(frozen=True)
class Switches:
    """One customer's purpose and kind switches, as read now."""

    customer_id: int
    purposes: dict[str, bool] = field(default_factory=dict)  # explicit choices only
    kinds_off: dict[str, datetime | None] = field(default_factory=dict)  # kind -> since

    def purpose_on(self, purpose: str, sensitivity: str | None) -> bool:
        found = self.purposes.get(purpose)
        if found is None:
            return purpose_default(sensitivity or Sensitivity.RETAIL, purpose)
        return found

    def kind_on(self, kind: str) -> bool:
        return kind not in self.kinds_off

    def personalization(self, brand) -> bool:
        """Personal results may be shown for this brand (purpose on, results kind on)."""
        return self.purpose_on(PERSONALIZATION, sensitivity_of(brand)) and self.kind_on(
            "recommendation"
        )

    def cite_kind_on(self, kind: str) -> bool:
        return all(self.kind_on(k) for k in CITED_KINDS.get(kind, (kind,)))

    def derived_row_usable(self, row, *, own_kind: str, sources: Iterable[str]) -> bool:
        """A derived row (an interest, a contact hour) is shown only if its own kind is on
        and none of the kinds it was computed from was switched off after it was written."""
        if not self.kind_on(own_kind):
            return False
        written = row.created_at  # results are rewritten, never updated, by a recompute
        for source in sources:
            if source in self.kinds_off:
                since = self.kinds_off[source]
                if since is None or written is None or written <= since:
                    return False
        return True


def sensitivity_of(brand) -> str | None:
    return brand.sensitivity if brand is not None else None


def switches_for(*, customer_ids: Iterable[int]) -> dict[int, Switches]:
    """Every named customer's switches in one query (a customer with none gets defaults)."""
    ids = sorted({int(c) for c in customer_ids})
    if not ids:
        return {}
    rows = (
        KindSetting.objects.filter(customer_id__in=ids, in_use=False)
        .annotate(t=Value("kind", output_field=CharField()))
        .values_list("t", "customer_id", "data_kind", "in_use", "updated_at")
        .union(
            PurposeConsent.objects.filter(customer_id__in=ids)
            .annotate(t=Value("purpose", output_field=CharField()))
            .values_list("t", "customer_id", "purpose", "granted", "updated_at"),
            all=True,
        )
    )
    purposes: dict[int, dict[str, bool]] = defaultdict(dict)
    kinds_off: dict[int, dict[str, datetime | None]] = defaultdict(dict)
    for tag, customer_id, name, on, since in rows:
        if tag == "kind":
            kinds_off[customer_id][name] = since
        else:
            purposes[customer_id][name] = bool(on)
    return {c: Switches(customer_id=c, purposes=purposes[c], kinds_off=kinds_off[c]) for c in ids}


def customer_switches(*, customer_id: int) -> Switches:
    return switches_for(customer_ids=[customer_id])[customer_id]


def usable_points(recommendations, switches: dict[int, Switches]) -> set[tuple[str, int]]:
    """Which cited points of these recommendations may still be shown as a reason: the
    point is still in use, not a gift, and its kind (and every kind it is read through) is
    on for its owner. One query per cited table."""
    wanted: dict[str, set[int]] = defaultdict(set)
    owners: set[int] = set()
    for rec in recommendations:
        state = switches.get(rec.customer_id)
        if state is None:
            continue
        for cite in rec.explanation or ():
            if state.cite_kind_on(cite.get("kind", "")):
                wanted[cite["kind"]].add(int(cite["pk"]))
                owners.add(rec.customer_id)
    live: set[tuple[str, int]] = set()
    if wanted.get("event"):
        live |= {
            ("event", pk)
            for pk in Event.objects.filter(
                pk__in=wanted["event"], customer_id__in=owners, in_use=True
            ).values_list("pk", flat=True)
        }
    if wanted.get("order"):
        live |= {
            ("order", pk)
            for pk in Order.objects.filter(
                pk__in=wanted["order"], customer_id__in=owners, in_use=True, is_gift=False
            ).values_list("pk", flat=True)
        }
    return live


def usable_cites(rec, live: set[tuple[str, int]]) -> list[dict]:
    """The recommendation's reasons that may be shown now (see usable_points)."""
    return [c for c in rec.explanation or () if (c.get("kind"), c.get("pk")) in live]


def showable(rec, cites: list[dict]) -> bool:
    """A personal pick is shown only with at least one cited reason of the customer's own
    and a score that says the model is for it, not against it. Popular (cold start) picks
    have nothing of theirs behind them and are always honest to show."""
    if rec.is_popular:
        return True
    return bool(cites) and rec.score >= 0


def kind_in_use_now(
    kind, *, switches: Switches, row_in_use: bool | None, sensitivity: str | None
) -> bool | None:
    """The export's "in use" for one row: its own flag, its kind's switch and its purposes
    (a row whose every purpose is switched off is not used, even with its flag on).

    None for a row without a flag of its own that nothing switched off (nothing to say).
    Purposes a customer cannot switch (service, security, checkout...) always count as on;
    the others follow their choice, or the brand's default (retail for rows of no brand).
    """
    purposes_on = any(
        p not in Purpose.values or switches.purpose_on(p, sensitivity) for p in kind.purposes
    )
    on = switches.kind_on(kind.name) and purposes_on
    if row_in_use is None and on:
        return None
    return bool(row_in_use is not False and on)
