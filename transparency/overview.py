"""The dashboard's "at a glance": how much is held about the customer, from where, by which
brand, what is in use, what expires soon, who looked recently and which model version last
used their data.

Reads only, in a fixed number of queries whatever the data size: one UNION ALL of every
kind's rows counted per (brand, day, in use), the customer's choices, the brands involved,
the last accesses by others and the model versions behind their results. Everything else is
arithmetic on those few hundred grouped rows. Driven by the registry, like My data.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from django.db.models import (
    BooleanField,
    CharField,
    Count,
    DateField,
    F,
    IntegerField,
    Max,
    Q,
    Value,
)
from django.db.models.functions import Cast, TruncDate
from django.utils import timezone

from accounts.models import (
    ActorKind,
    AuditEvent,
    Brand,
    Customer,
    KindSetting,
    PurposeConsent,
)

from . import charts, registry, selectors

EXPIRING_WITHIN_DAYS = 30
HISTORY_MONTHS = 12
TIMELINE_MONTHS = 13  # this month and the next twelve: a year of activity fits
LAST_ACCESSES = 5
BRANDS_CHARTED = 5  # the rest are added up as "Other brands"


@dataclass
class Share:
    key: str  # the source's value, or the brand's id ("" for the account's own data)
    label: str
    count: int


@dataclass
class KindCount:
    kind: registry.DataKind
    count: int
    off: int  # points switched off one by one, or all of them when the kind is off
    expiring: int

    @property
    def in_use(self) -> int:
        return self.count - self.off


@dataclass
class Access:
    when: datetime
    sentence: str


@dataclass
class ModelUse:
    brand: str
    version: int | None
    algorithm: str
    trained_at: datetime | None
    used_at: datetime


@dataclass
class Overview:
    total: int
    in_use: int
    switched_off: int
    expiring: int
    by_source: list[Share]
    by_brand: list[Share]
    by_kind: list[KindCount]
    kinds_off: list[str]
    purposes_off: list[str]
    months: list[tuple[date, dict[str, int]]]  # first of month -> {source: new points}
    timeline: list[tuple[date, int]]  # first of month -> points deleted automatically
    timeline_later: int
    accesses: list[Access]
    models: list[ModelUse]
    sources: list[tuple[str, str]] = field(default_factory=list)  # (value, label) in order

    @property
    def expiring_kinds(self) -> list[KindCount]:
        return [k for k in self.by_kind if k.expiring]


# --- query 1: every kind counted per (brand, day, in use) -------------------------------


class _Day(TruncDate):
    """The calendar day of a datetime column. On SQLite TruncDate converts each row in Python
    (most of the time at 10,000 events); in UTC, SQLite's own date() gives the same day."""

    def as_sqlite(self, compiler, connection, **extra):
        if self.get_tzname() not in ("UTC", "Etc/UTC"):
            return self.as_sql(compiler, connection)
        sql, params = compiler.compile(self.lhs)
        return f"date({sql})", params


def _grouped(kind, index: int, customer_id: int):
    owner = {kind.owner or "pk": customer_id}
    point_toggle = selectors.kind_has_point_toggle(kind)
    return (
        kind.get_model()
        ._default_manager.filter(**owner)
        .order_by()
        .annotate(
            _k=Value(index, IntegerField()),
            # Typed NULLs and constants: PostgreSQL matches UNION columns by type.
            _b=F(kind.brand_field) if kind.brand_field else Cast(Value(None), IntegerField()),
            _d=_Day(kind.created_field) if kind.created_field else Cast(Value(None), DateField()),
            _u=F("in_use") if point_toggle else Cast(Value(True), BooleanField()),
        )
        .values_list("_k", "_b", "_d", "_u")
        .annotate(_n=Count("pk"))
    )


def _counted_rows(kinds, customer_id: int) -> list[tuple]:
    parts = [_grouped(kind, i, customer_id) for i, kind in enumerate(kinds)]
    return list(parts[0].union(*parts[1:], all=True))


# --- queries 2-5 ------------------------------------------------------------------------


def _choices(customer_id: int) -> tuple[dict[str, bool], dict[str, bool]]:
    rows = (
        KindSetting.objects.filter(customer_id=customer_id)
        .annotate(t=Value("kind", output_field=CharField()))
        .values_list("t", "data_kind", "in_use")
        .union(
            PurposeConsent.objects.filter(customer_id=customer_id)
            .annotate(t=Value("purpose", output_field=CharField()))
            .values_list("t", "purpose", "granted"),
            all=True,
        )
    )
    kinds: dict[str, bool] = {}
    purposes: dict[str, bool] = {}
    for tag, name, on in rows:
        (kinds if tag == "kind" else purposes)[name] = bool(on)
    return kinds, purposes


def _brands(customer_id: int, ids: set[int]) -> dict[int, tuple[str, str, bool]]:
    """{brand id: (name, sensitivity, linked)} for brands holding data or linked."""
    linked = Q(customer_links__customer_id=customer_id)
    rows = (
        Brand.objects.filter(Q(pk__in=ids) | linked)
        .annotate(_linked=Count("customer_links", filter=linked))
        .values_list("pk", "name", "sensitivity", "_linked")
    )
    return {pk: (name, sens, bool(n)) for pk, name, sens, n in rows}


def _accesses(customer_id: int) -> list[Access]:
    events = (
        AuditEvent.objects.filter(customer_id=customer_id)
        .exclude(actor_kind=ActorKind.CUSTOMER)
        .select_related("actor_user", "actor_brand")[:LAST_ACCESSES]
    )
    return [Access(when=e.created_at, sentence=selectors.access_sentence(e)) for e in events]


def _models(customer_id: int) -> list[ModelUse]:
    from recommendations.models import Recommendation

    rows = (
        Recommendation.objects.filter(customer_id=customer_id)
        .order_by()
        .values_list(
            "brand__name",
            "training_run_id",
            "training_run__algorithm",
            "training_run__finished_at",
        )
        .annotate(used=Max("created_at"))
    )
    found = [
        ModelUse(brand=b or "", version=v, algorithm=_algorithm(a), trained_at=t, used_at=u)
        for b, v, a, t, u in rows
    ]
    # Results from a trained model first (a version to show), newest first.
    return sorted(found, key=lambda m: (m.version is not None, m.used_at), reverse=True)


def _algorithm(code: str | None) -> str:
    from recommendations.models import TrainingRun

    return str(TrainingRun.Algorithm(code).label) if code else ""


# --- putting it together ----------------------------------------------------------------


def _month(day: date) -> date:
    return day.replace(day=1)


def _add_months(month: date, n: int) -> date:
    y, m = divmod(month.month - 1 + n, 12)
    return date(month.year + y, m + 1, 1)


@dataclass
class _Tally:
    """Running totals while walking the grouped rows."""

    total: int = 0
    off: int = 0
    expiring: int = 0
    by_source: dict[str, int] = field(default_factory=lambda: defaultdict(int))
    by_brand: dict[int | None, int] = field(default_factory=lambda: defaultdict(int))
    by_kind: dict[int, list[int]] = field(default_factory=dict)  # index -> [n, off, expiring]
    months: dict[date, dict[str, int]] = field(default_factory=dict)
    timeline: dict[date, int] = field(default_factory=lambda: defaultdict(int))
    later: int = 0


def _walk(kinds, rows, brands, kinds_off: set[str], today: date) -> _Tally:
    tally = _Tally()
    first_month = _add_months(_month(today), -(HISTORY_MONTHS - 1))
    this_month = _month(today)
    last_month = _add_months(this_month, TIMELINE_MONTHS - 1)
    soon = today + timedelta(days=EXPIRING_WITHIN_DAYS)
    for index, brand_id, day, in_use, n in rows:
        if not n:
            continue
        kind = kinds[index]
        off = n if (not in_use or kind.name in kinds_off) else 0
        counts = tally.by_kind.setdefault(index, [0, 0, 0])
        counts[0] += n
        counts[1] += off
        tally.total += n
        tally.off += off
        tally.by_source[kind.source.value] += n
        tally.by_brand[brand_id] += n
        if day is None:
            continue
        if isinstance(day, datetime):
            day = day.date()
        if _month(day) >= first_month:
            bucket = tally.months.setdefault(_month(day), defaultdict(int))
            bucket[kind.source.value] += n
        sensitivity = brands.get(brand_id, (None, None, False))[1]
        days = kind.retention_for(sensitivity)
        if days is None:
            continue
        expires = day + timedelta(days=days)
        if expires <= soon:
            counts[2] += n
            tally.expiring += n
        month = max(_month(expires), this_month)
        if month > last_month:
            tally.later += n
        else:
            tally.timeline[month] += n
    return tally


def _purposes_off(explicit: dict[str, bool], brands) -> list[str]:
    sensitivities = {sens for _, sens, linked in brands.values() if linked}
    rows = selectors.purpose_rows(explicit, sensitivities)
    return [row["label"] for row in rows if not row["granted"]]


def overview(*, customer: Customer | int, today: date | None = None) -> Overview:
    customer_id = customer if isinstance(customer, int) else customer.pk
    today = today or timezone.localdate()
    kinds = registry.all_kinds()
    rows = _counted_rows(kinds, customer_id)
    kind_settings, explicit = _choices(customer_id)
    kinds_off = {name for name, on in kind_settings.items() if not on}
    brands = _brands(customer_id, {r[1] for r in rows if r[1] is not None})
    tally = _walk(kinds, rows, brands, kinds_off, today)
    this_month = _month(today)
    return Overview(
        total=tally.total,
        in_use=tally.total - tally.off,
        switched_off=tally.off,
        expiring=tally.expiring,
        by_source=[
            Share(s.value, s.label, tally.by_source.get(s.value, 0)) for s in registry.Source
        ],
        by_brand=sorted(
            (
                Share(str(b or ""), brands[b][0] if b in brands else "Your account (no brand)", n)
                for b, n in tally.by_brand.items()
            ),
            key=lambda c: (-c.count, c.label),
        ),
        by_kind=sorted(
            (KindCount(kinds[i], n, off, exp) for i, (n, off, exp) in tally.by_kind.items()),
            key=lambda k: (-k.count, k.kind.label),
        ),
        kinds_off=[k.label for k in kinds if k.name in kinds_off],
        purposes_off=_purposes_off(explicit, brands),
        months=[
            (m, dict(tally.months.get(m, {})))
            for m in (_add_months(this_month, -i) for i in reversed(range(HISTORY_MONTHS)))
        ],
        timeline=[
            (m, tally.timeline.get(m, 0))
            for m in (_add_months(this_month, i) for i in range(TIMELINE_MONTHS))
        ],
        timeline_later=tally.later,
        accesses=_accesses(customer_id),
        models=_models(customer_id),
        sources=[(s.value, s.label) for s in registry.Source],
    )


# --- what the overview page draws ---------------------------------------------------------


def _month_label(month: date) -> str:
    return f"{month:%b}"


def _sentence(parts: list[tuple[str, int]]) -> str:
    shown = [f"{label}: {n:,}" for label, n in parts]
    return "; ".join(shown) + "." if shown else "Nothing yet."


def home_context(*, customer: Customer) -> dict:
    """The overview plus its four charts, each with the sentence and rows of its table."""
    ov = overview(customer=customer)
    sources = [(c.key, f"bar-{c.key}") for c in ov.by_source]
    source_rows = [(c.label, c.count, f"bar-{c.key}") for c in ov.by_source]
    brand_rows = [(c.label, c.count, "bar-brand") for c in ov.by_brand[:BRANDS_CHARTED]]
    if rest := ov.by_brand[BRANDS_CHARTED:]:
        others = f"{len(rest)} other brand{'s' if len(rest) != 1 else ''}"
        brand_rows.append((others, sum(c.count for c in rest), "bar-brand"))
    month_buckets = [(_month_label(m), values) for m, values in ov.months]
    timeline = [(_month_label(m), {"expiring": n}) for m, n in ov.timeline]
    return {
        "ov": ov,
        "source_chart": charts.bars(source_rows),
        "source_summary": _sentence([(label, n) for label, n, _ in source_rows]),
        "brand_chart": charts.bars(brand_rows),
        "brand_summary": _sentence([(label, n) for label, n, _ in brand_rows]),
        "month_chart": charts.columns(month_buckets, sources),
        "month_rows": [
            (m, sum(v.values()), [(label, v.get(key, 0)) for key, label in ov.sources])
            for m, v in ov.months
        ],
        "month_summary": _sentence([(f"{m:%B %Y}", sum(v.values())) for m, v in ov.months]),
        "timeline_chart": charts.columns(timeline, [("expiring", "bar-expiring")]),
        "timeline_summary": _sentence([(f"{m:%B %Y}", n) for m, n in ov.timeline if n])
        + (f" After that: {ov.timeline_later:,}." if ov.timeline_later else ""),
    }


def my_data_sections(rows: list[dict]) -> dict:
    """My data's kinds split for the page: those holding something, grouped by source, and
    the empty ones (shown folded into one line)."""
    held = [row for row in rows if row["count"]]
    groups = [
        {"source": s.value, "label": s.label, "kinds": [r for r in held if r["source"] == s]}
        for s in registry.Source
    ]
    return {
        "held_by_source": [g for g in groups if g["kinds"]],
        "empty_kinds": [row for row in rows if not row["count"]],
    }
