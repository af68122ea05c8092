"""Reads for recommendations: training data extraction, results for pages and the widget.

Extraction is bulk (one query per table, `values_list`) and applies every consent rule
before anything reaches the model (invariant 2, "off means off"):

* data points switched off (`in_use=False`) are not read;
* kinds switched off (`accounts.KindSetting` for "event", "order", "order_line");
* customers whose personalization purpose is off (a PurposeConsent row saying so, or no row
  and the brand's sensitivity profile defaulting it off);
* gift orders (a gift says nothing about the buyer's taste);
* erased customers have no rows left, so nothing of theirs can be read.
"""

from __future__ import annotations

import json
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from functools import cached_property

import numpy as np
from django.core.cache import cache
from django.db import connection
from django.db.models import (
    BigIntegerField,
    Case,
    ExpressionWrapper,
    F,
    FloatField,
    Func,
    Value,
    When,
)
from django.utils import timezone

from accounts.models import Brand, KindSetting, Purpose, PurposeConsent
from accounts.profiles import purpose_default
from ledger.models import Event, OrderLine, Product

from . import ml, switches
from .models import ContactHourInference, InferredInterest, Recommendation, TrainingRun

# Event kinds the model reads (search terms and impressions say nothing about one product).
MODEL_EVENT_KINDS = ("rating", "click", "widget_click", "view", "add_to_cart", "not_interested")
VERBS = {
    "purchase": "bought",
    "add_to_cart": "added to your cart",
    "click": "clicked",
    "widget_click": "clicked",
    "view": "viewed",
    "not_interested": "dismissed",
}
MAX_POINTS_PER_PAIR = 5
POPULAR_LABEL = "Popular right now — we know little about you yet"
ANONYMOUS_LABEL = "Popular right now"
PERSONAL_LABEL = "Picked for you"
CACHE_TTL = 600


@dataclass
class Point:
    """One of the customer's own data points behind a (customer, product) rating."""

    kind: str  # the registry kind: "event" or "order"
    pk: int
    verb: str
    when: datetime
    value: float = float("nan")  # a rating's stars (NaN for other kinds)


class _Epoch(Func):
    """Seconds since 1970 (UTC) of a datetime column, computed by the database.

    Reading epoch floats skips Django's per-row datetime parsing (the slowest part of
    extracting 100k rows on SQLite); times are turned into dates only for what is shown.
    SQLite's julianday keeps millisecond precision.
    """

    output_field = FloatField()

    def as_sql(self, compiler, connection, **extra):
        template = "CAST(EXTRACT(EPOCH FROM %(expressions)s) AS double precision)"
        return super().as_sql(compiler, connection, template=template, **extra)

    def as_sqlite(self, compiler, connection, **extra):
        template = "((julianday(%(expressions)s) - 2440587.5) * 86400.0)"
        return super().as_sql(compiler, connection, template=template, **extra)


def _pk_and_kind() -> ExpressionWrapper:
    """``pk * 8 + kind code`` (the event's kind as its index in MODEL_EVENT_KINDS), computed by
    the database: one integer column for both (every extracted column is a number, and one
    column fewer to fetch is ~10% of extraction; pks stay far below 2**60)."""
    whens = [When(kind=kind, then=Value(code)) for code, kind in enumerate(MODEL_EVENT_KINDS)]
    code = Case(*whens, default=Value(_KIND_MASK), output_field=BigIntegerField())
    return ExpressionWrapper(F("pk") * (1 << _KIND_BITS) + code, output_field=BigIntegerField())


def _pair_key(customer: str, product: str) -> ExpressionWrapper:
    """``customer * 2**31 + product`` computed by the database: one column for the pair
    (ids stay below 2**31, as every pair key here assumes)."""
    return ExpressionWrapper(F(customer) * _KEY + F(product), output_field=BigIntegerField())


def _rows(queryset, dtype: np.dtype) -> np.ndarray:
    """Rows of a numeric ``values_list`` query as a structured array of ``dtype`` (one field
    per column), fetched with one raw query and converted in one C loop: no per-row model,
    converter or Python list per column. NULL becomes NaN; integers stay exact."""
    sql, params = queryset.order_by().query.sql_with_params()  # no ORDER BY: order is ours
    parts = [np.empty(0, dtype=dtype)]
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        while rows := cursor.fetchmany(_FETCH_ROWS):  # row tuples die young, chunk by chunk
            parts.append(np.fromiter(rows, dtype=dtype, count=len(rows)))
    return np.concatenate(parts)


_FETCH_ROWS = 10_000
_KIND_BITS = 3  # an event's kind code takes the low bits of its pk column (7: not a model kind)
_KIND_MASK = (1 << _KIND_BITS) - 1
_EVENT_ROW = np.dtype([("pk_kind", "i8"), ("pair", "i8"), ("value", "f8"), ("at", "f8")])
_LINE_ROW = np.dtype([("order", "i8"), ("pair", "i8"), ("at", "f8")])


#: Kind names behind the integer kind codes of the extraction (events, then order lines).
KIND_NAMES = (*MODEL_EVENT_KINDS, "purchase")
_PURCHASE = len(MODEL_EVENT_KINDS)
_POINT_KINDS = np.array(["event", "order"])


@dataclass
class TrainingData:
    """One rating per allowed (customer, product) pair, plus the points behind each pair.

    The points are kept as parallel arrays in extraction order, each with the index of its
    pair (``point_pairs``), so an explanation looks up only the few points it cites
    (:meth:`explanations`); the full (customer, product, newest first) order is sorted only
    when something asks for every point (:attr:`points`).
    """

    brand: Brand
    users: np.ndarray  # customer ids
    items: np.ndarray  # product ids
    ratings: np.ndarray
    stamps: np.ndarray  # epoch seconds of the newest signal behind each pair
    products: dict[int, tuple[str, str, bool]]  # id -> (name, category, active)
    personalization: dict[int, bool]  # every customer seen -> allowed
    hour_users: np.ndarray = field(default_factory=lambda: np.empty(0, dtype=np.int64))
    hours: np.ndarray = field(default_factory=lambda: np.empty(0, dtype=np.int64))
    point_pairs: np.ndarray = field(default_factory=lambda: np.empty(0, dtype=np.intp))
    point_users: np.ndarray = field(default_factory=lambda: np.empty(0, dtype=np.int64))
    point_items: np.ndarray = field(default_factory=lambda: np.empty(0, dtype=np.int64))
    point_kinds: np.ndarray = field(default_factory=lambda: np.empty(0, dtype=str))
    point_pks: np.ndarray = field(default_factory=lambda: np.empty(0, dtype=np.int64))
    point_verbs: np.ndarray = field(default_factory=lambda: np.empty(0, dtype=str))
    point_stamps: np.ndarray = field(default_factory=lambda: np.empty(0))
    point_values: np.ndarray = field(default_factory=lambda: np.empty(0))  # NaN: not a rating

    @property
    def n_ratings(self) -> int:
        return len(self.ratings)

    # (distinct ids, each rating's code among them) for customers and products, computed
    # once: ranking, interests and the artefact all read them.
    user_index: tuple[np.ndarray, np.ndarray] = field(init=False, repr=False)
    item_index: tuple[np.ndarray, np.ndarray] = field(init=False, repr=False)

    def __post_init__(self) -> None:
        self.user_index = ml.dense_codes(self.users)
        self.item_index = ml.dense_codes(self.items)

    def _pair_of(self, customer_ids, product_ids) -> np.ndarray:
        """Index of each (customer, product) pair in the ratings (``-1``: not there). The
        ratings are sorted by (customer, product), so this is a binary search."""
        keys = np.asarray(self.users, dtype=np.int64) * _KEY + np.asarray(self.items, np.int64)
        wanted = np.asarray(customer_ids, dtype=np.int64) * _KEY + np.asarray(
            product_ids, dtype=np.int64
        )
        found = np.minimum(np.searchsorted(keys, wanted), max(len(keys) - 1, 0))
        hit = (keys[found] == wanted) if len(keys) else np.zeros(len(wanted), dtype=bool)
        return np.where(hit, found, -1)

    def _newest_first(self, rows: np.ndarray) -> np.ndarray:
        """``rows`` (point indices) ordered by pair, then newest first (ties: higher pk)."""
        return rows[
            np.lexsort((-self.point_pks[rows], -self.point_stamps[rows], self.point_pairs[rows]))
        ]

    @cached_property
    def point_positive(self) -> np.ndarray:
        """Which points speak in favour of their product (may be cited as a reason): never
        a dismissal, a rating only above the neutral 3 stars."""
        rated = self.point_verbs == "rated"
        above = np.nan_to_num(self.point_values, nan=0.0) > NEUTRAL_STARS
        return (self.point_verbs != "dismissed") & (~rated | above)

    def point_labels(self, rows: np.ndarray, suffix: str = "") -> list[str]:
        """What each point was, in words ("rated X 5★", "bought Y"), as JSON strings."""
        labels: dict[tuple[str, int, float], str] = {}
        keys = zip(
            self.point_verbs[rows].tolist(),
            self.point_items[rows].tolist(),
            np.nan_to_num(self.point_values[rows], nan=0.0).tolist(),
            strict=True,
        )
        out = []
        for key in keys:
            if key not in labels:
                verb, pid, value = key
                name = self.products.get(pid, ("a product",))[0]
                labels[key] = json.dumps(label_words(verb, name, value) + suffix)
            out.append(labels[key])
        return out

    @cached_property
    def _point_order(self) -> np.ndarray:
        return self._newest_first(np.arange(len(self.point_pairs)))

    def point_rows(self, customer_id: int, product_id: int) -> np.ndarray:
        """Indices of this pair's points, newest first (at most MAX_POINTS_PER_PAIR)."""
        (pair,) = self._pair_of([customer_id], [product_id])
        if pair < 0:
            return np.empty(0, dtype=np.intp)
        order = self._point_order
        lo, hi = np.searchsorted(self.point_pairs[order], [pair, pair + 1])
        return order[lo : min(hi, lo + MAX_POINTS_PER_PAIR)]

    def explanations(self, owners, customer_ids, product_ids, n: int) -> list[str]:
        """JSON text of ``n`` explanations, ready to store.

        Cite ``c`` is the pair (``customer_ids[c]``, ``product_ids[c]``) and belongs to
        explanation ``owners[c]`` (non-decreasing). Each cite contributes the customer's own
        points behind that pair, newest first (at most MAX_POINTS_PER_PAIR), as
        ``{"kind", "pk", "product_id", "label", "date"}`` entries, in cite order: exactly
        ``json.dumps`` of those dicts. Only the cited pairs' points are read and sorted.
        """
        owners = np.asarray(owners, dtype=np.intp)
        if len(owners) == 0 or len(self.point_pairs) == 0:
            return ["[]"] * n
        # A customer's strongest items explain several of their picks: each distinct pair's
        # entries are built once.
        pairs, cite_pair = np.unique(self._pair_of(customer_ids, product_ids), return_inverse=True)
        wanted = np.zeros(len(self.users) + 1, dtype=bool)
        wanted[pairs] = True
        wanted[-1] = False  # index -1: a pair not in the data (cites nothing)
        # Only points in the product's favour are reasons (a 2-star rating of a pair that is
        # positive overall, say because it was bought later, is not cited).
        rows = self._newest_first(np.flatnonzero(wanted[self.point_pairs] & self.point_positive))
        row_pairs = self.point_pairs[rows]
        lo = np.searchsorted(row_pairs, pairs, side="left")
        hi = np.minimum(np.searchsorted(row_pairs, pairs, side="right"), lo + MAX_POINTS_PER_PAIR)
        lengths = np.where(pairs >= 0, hi - lo, 0)
        offsets = np.concatenate([[0], np.cumsum(lengths)[:-1]]).astype(np.intp)
        chosen = rows[np.repeat(lo - offsets, lengths) + np.arange(int(lengths.sum()))]

        days = (self.point_stamps[chosen] * 1e6).astype("datetime64[us]").astype("datetime64[D]")
        pids = self.point_items[chosen].tolist()
        entries = [
            f'{{"kind": "{kind}", "pk": {pk}, "product_id": {pid}, '
            f'"label": {label}, "date": "{day}"}}'
            for kind, pk, pid, label, day in zip(
                self.point_kinds[chosen].tolist(),
                self.point_pks[chosen].tolist(),
                pids,
                self.point_labels(chosen),
                days.astype(str).tolist(),
                strict=True,
            )
        ]
        pair_text = np.full(len(pairs), "", dtype=object)
        if lengths.max() <= 1:  # one point per pair: its entry is the pair's text
            pair_text[lengths > 0] = entries
        else:
            bounds = zip(offsets.tolist(), np.cumsum(lengths).tolist(), strict=True)
            pair_text[:] = [", ".join(entries[a:b]) for a, b in bounds]
        # Each explanation joins its cites' texts (cites of pairs without points add none):
        # one join of everything, cut at the explanations' boundaries (NUL never occurs in
        # JSON text), instead of a join per explanation.
        cite_pair = cite_pair.reshape(-1)
        cites = np.flatnonzero(lengths[cite_pair] > 0)
        if len(cites) == 0:
            return ["[]"] * n
        owner = owners[cites]
        texts = pair_text[cite_pair[cites]].tolist()
        glue = np.where(owner[1:] == owner[:-1], ", ", "]\0[").tolist()
        woven = [""] * (2 * len(texts) - 1)
        woven[0::2], woven[1::2] = texts, glue
        parts = ("[" + "".join(woven) + "]").split("\0")
        out = np.full(n, "[]", dtype=object)
        out[np.unique(owner)] = parts
        return out.tolist()

    @property
    def points(self) -> dict[tuple[int, int], list[Point]]:
        """Every pair's points as objects, newest first (for tests and small callers;
        training uses :meth:`explanations`)."""
        found: dict[tuple[int, int], list[Point]] = defaultdict(list)
        order = self._point_order
        values = self.point_values[order] if len(self.point_values) else np.full(len(order), np.nan)
        for cid, pid, kind, pk, verb, stamp, value in zip(
            self.point_users[order].tolist(),
            self.point_items[order].tolist(),
            self.point_kinds[order].tolist(),
            self.point_pks[order].tolist(),
            self.point_verbs[order].tolist(),
            self.point_stamps[order].tolist(),
            values.tolist(),
            strict=True,
        ):
            when = datetime.fromtimestamp(stamp, tz=UTC)
            found[(cid, pid)].append(Point(kind, pk, verb, when, value))
        return found


_KEY = 1 << 31  # customer * _KEY + product: one int64 key per pair (ids stay below 2**31)


def _purposes(brand: Brand, customer_id: int | None) -> dict[tuple[int, str], bool]:
    rows = PurposeConsent.objects.filter(
        purpose__in=[Purpose.PERSONALIZATION, Purpose.CONTACT, Purpose.CROSS_BRAND]
    )
    if customer_id is not None:
        rows = rows.filter(customer_id=customer_id)
    return {(c, p): g for c, p, g in rows.values_list("customer_id", "purpose", "granted")}


def purpose_allowed(
    consents: dict[tuple[int, str], bool], brand: Brand, customer_id: int, purpose: str
) -> bool:
    found = consents.get((customer_id, purpose))
    return purpose_default(brand.sensitivity, purpose) if found is None else found


def _per_customer(customers: np.ndarray, *rules) -> list[np.ndarray]:
    """For every row, each ``rule(cid)``; each rule is evaluated once per distinct customer
    (one sort of the rows for all of them)."""
    if len(customers) == 0:
        return [np.zeros(0, dtype=bool) for _ in rules]
    values, codes = ml.dense_codes(customers)
    ids = values.tolist()
    return [np.array([bool(rule(c)) for c in ids], dtype=bool)[codes] for rule in rules]


def training_data(
    *,
    brand_id: int,
    customer_id: int | None = None,
    customer_ids: list[int] | None = None,
    now: datetime | None = None,
) -> TrainingData:
    """Allowed interactions of a brand (or one of its customers) as one rating per pair.

    One query per table; rows come back as one numeric array per table (kinds as codes,
    times as epoch seconds), and every consent rule is applied as a vectorised mask,
    evaluated once per distinct customer.
    """
    now = now or timezone.now()
    brand = Brand.objects.get(pk=brand_id)
    consents = _purposes(brand, customer_id)
    kinds_off = KindSetting.objects.filter(
        in_use=False, data_kind__in=["event", "order", "order_line"]
    )
    events = Event.objects.filter(
        brand_id=brand_id, in_use=True, product__isnull=False, kind__in=MODEL_EVENT_KINDS
    )
    lines = OrderLine.objects.filter(
        order__brand_id=brand_id, order__in_use=True, order__is_gift=False
    )
    if customer_id is not None:
        kinds_off = kinds_off.filter(customer_id=customer_id)
        events = events.filter(customer_id=customer_id)
        lines = lines.filter(order__customer_id=customer_id)
    if customer_ids is not None:  # a few customers (their signals seen from another brand)
        kinds_off = kinds_off.filter(customer_id__in=customer_ids)
        events = events.filter(customer_id__in=customer_ids)
        lines = lines.filter(order__customer_id__in=customer_ids)
    off: dict[int, set[str]] = defaultdict(set)
    for cid, kind in kinds_off.values_list("customer_id", "data_kind"):
        off[cid].add(kind)
    products = {
        pk: (name, category, active)
        for pk, name, category, active in Product.objects.filter(brand_id=brand_id).values_list(
            "pk", "name", "category", "active"
        )
    }

    if products and max(products) >= _KEY:
        raise ValueError("Product ids must stay below 2**31 (they share a key with customers).")
    allowed: dict[int, bool] = {}

    def personal(cid: int) -> bool:
        if cid not in allowed:
            allowed[cid] = purpose_allowed(consents, brand, cid, Purpose.PERSONALIZATION)
        return allowed[cid]

    if customer_id is not None:
        personal(customer_id)  # always answered for the customer asked about

    e = _rows(
        events.annotate(
            pk_kind=_pk_and_kind(),
            pair=_pair_key("customer_id", "product_id"),
            epoch=_Epoch("occurred_at"),
        ).values_list("pk_kind", "pair", "value", "epoch"),
        _EVENT_ROW,
    )
    bought = _rows(
        lines.annotate(
            pair=_pair_key("order__customer_id", "product_id"), epoch=_Epoch("order__placed_at")
        ).values_list("order_id", "pair", "epoch"),
        _LINE_ROW,
    )
    e_cid, l_cid = e["pair"] // _KEY, bought["pair"] // _KEY
    event_on, contact, personal_on = _per_customer(
        e_cid,
        lambda c: "event" not in off.get(c, ()),
        lambda c: purpose_allowed(consents, brand, c, Purpose.CONTACT),
        personal,
    )
    contact &= event_on
    event_rows = event_on & personal_on
    (line_rows,) = _per_customer(
        l_cid, lambda c: not (off.get(c, set()) & {"order", "order_line"}) and personal(c)
    )

    hour_users = e_cid[contact]
    hours = ((e["at"][contact] // 3600) % 24).astype(np.int64)
    e, bought = e[event_rows], bought[line_rows]
    pairs = np.concatenate([e["pair"], bought["pair"]])
    columns = {
        "users": pairs // _KEY,
        "items": pairs % _KEY,
        "kinds": np.concatenate([e["pk_kind"] & _KIND_MASK, np.full(len(bought), _PURCHASE)]),
        "values": np.concatenate([e["value"], np.full(len(bought), np.nan)]),
        "stamps": np.concatenate([e["at"], bought["at"]]),
        "point_kinds": np.concatenate([np.zeros(len(e), np.intp), np.ones(len(bought), np.intp)]),
        "pks": np.concatenate([e["pk_kind"] >> _KIND_BITS, bought["order"]]),
    }
    return _to_ratings(brand, columns, products, allowed, now, hour_users, hours)


def _to_ratings(brand, cols, products, allowed, now, hour_users, hours) -> TrainingData:
    users, items, stamps = cols["users"], cols["items"], cols["stamps"]
    triples, pair_of_row = ml.signals_to_ratings_indexed(
        users,
        items,
        cols["kinds"],
        cols["values"],
        (now.timestamp() - stamps) / 86400.0,
        kind_names=KIND_NAMES,
    )
    # Newest signal per pair, in the same (user, item) order as the triples.
    newest = np.full(len(triples.users), -np.inf)
    np.maximum.at(newest, pair_of_row, stamps)
    verbs = np.array([VERBS.get(kind, "rated") for kind in KIND_NAMES], dtype=str)
    return TrainingData(
        brand=brand,
        users=triples.users.astype(np.int64),
        items=triples.items.astype(np.int64),
        ratings=triples.ratings,
        stamps=newest,
        products=products,
        personalization=allowed,
        hour_users=np.asarray(hour_users, dtype=np.int64),
        hours=np.asarray(hours, dtype=np.int64),
        point_pairs=pair_of_row,
        point_users=users,
        point_items=items,
        point_kinds=_POINT_KINDS[cols["point_kinds"]],
        point_pks=cols["pks"],
        point_verbs=verbs[cols["kinds"]],
        point_stamps=stamps,
        point_values=np.asarray(cols["values"], dtype=np.float64),
    )


NEUTRAL_STARS = 3.0
_LABELS = {"added to your cart": "added {name} to your cart"}


def label_words(verb: str, name: str, value: float = 0.0) -> str:
    """A reason in words: "rated X 5★", "bought X", "added X to your cart"."""
    if verb == "rated":
        return f"rated {name} {value:g}★"
    return _LABELS.get(verb, "{verb} {name}").format(verb=verb, name=name)


def point_label(point: Point, product_name: str) -> str:
    return label_words(point.verb, product_name, point.value)


def point_is_positive(point: Point) -> bool:
    """Whether a point may be cited as a reason (as ``TrainingData.point_positive``)."""
    if point.verb == "rated":
        return point.value > NEUTRAL_STARS
    return point.verb != "dismissed"


# --------------------------------------------------------------------------------------------
# Results: the dashboard page
# --------------------------------------------------------------------------------------------


def _cites(rec, live: set[tuple[str, int]]) -> list[dict]:
    return [
        {**cite, "date": date.fromisoformat(cite["date"])}
        for cite in switches.usable_cites(rec, live)
    ]


def recommendations_page(*, user) -> dict:
    """Everything the Recommendations page shows, in a bounded number of queries (owner
    scoped through the signed-in user, so the customer row itself needs no query).

    Every switch applies at read time (recommendations.switches): a pick is shown only
    with a reason still usable now, interests and contact hours only when nothing they were
    computed from has been switched off since, so "off" needs no recompute to show."""
    owner = {"customer__user_id": user.pk}
    recs = list(
        Recommendation.objects.filter(in_use=True, **owner)
        .select_related("product", "brand")
        .order_by("brand__name", "rank")
    )
    interests = list(InferredInterest.objects.filter(**owner).select_related("brand"))
    hours = list(ContactHourInference.objects.filter(**owner).select_related("brand"))
    customer_id = next((r.customer_id for r in [*recs, *interests, *hours]), None)
    if customer_id is None:
        return {"groups": [], "interests": [], "contact_hours": [], "popular_label": POPULAR_LABEL}
    state = switches.customer_switches(customer_id=customer_id)
    recs = [r for r in recs if state.personalization(r.brand)]
    live = switches.usable_points(recs, {customer_id: state})
    brands: dict[int, dict] = {}
    for rec in recs:
        cites = _cites(rec, live)
        if not switches.showable(rec, cites):
            continue
        group = brands.setdefault(
            rec.brand_id, {"brand": rec.brand, "items": [], "cold_start": True}
        )
        group["items"].append({"rec": rec, "cites": cites})
        if not rec.is_popular:
            group["cold_start"] = False
    return {
        "groups": list(brands.values()),
        "interests": [
            i
            for i in interests
            if state.purpose_on(switches.PERSONALIZATION, switches.sensitivity_of(i.brand))
            and state.derived_row_usable(
                i, own_kind="inferred_interest", sources=switches.MODEL_KINDS
            )
        ],
        "contact_hours": [
            h
            for h in hours
            if state.purpose_on(switches.CONTACT, switches.sensitivity_of(h.brand))
            and state.derived_row_usable(h, own_kind="contact_hour", sources=("event",))
        ],
        "popular_label": POPULAR_LABEL,
    }


POPULAR_CACHE_KEY = "rec:popular:{scope}"


def popular_products(*, brand_ids: list[int] | None = None, n: int = 8) -> dict[int, list]:
    """The brands' popular products from their active runs (aggregates, nothing personal).

    Cached per brand (or for all brands) without any customer in it; a retrain forgets it."""
    scope = "all" if brand_ids is None else "-".join(str(b) for b in sorted(brand_ids))
    key = POPULAR_CACHE_KEY.format(scope=scope)
    found = cache.get(key)
    if found is None:
        runs = TrainingRun.objects.filter(is_active=True)
        if brand_ids is not None:
            runs = runs.filter(brand_id__in=brand_ids)
        order = {r.brand_id: r.metrics.get("popular", []) for r in runs.only("brand", "metrics")}
        wanted = [pid for pids in order.values() for pid in pids]
        products = Product.objects.in_bulk(wanted) if wanted else {}
        found = {
            brand_id: [products[p] for p in pids if p in products and products[p].active]
            for brand_id, pids in order.items()
        }
        cache.set(key, found, CACHE_TTL)
    return {brand_id: items[:n] for brand_id, items in found.items()}


def popular_cache_forget(*, brand_id: int) -> None:
    cache.delete_many([POPULAR_CACHE_KEY.format(scope=s) for s in ("all", str(brand_id))])


def recommendations_citing(*, customer_id: int, kind: str, pks: list[int]) -> list[dict]:
    """This customer's recommendations whose explanation cites any of those data points
    (the impact preview before a deletion or a switch-off)."""
    wanted = {(kind, int(pk)) for pk in pks}
    found = []
    for rec in Recommendation.objects.filter(customer_id=customer_id).select_related(
        "product", "brand"
    ):
        cited = [c for c in rec.explanation if (c["kind"], c["pk"]) in wanted]
        if cited:
            found.append(
                {
                    "recommendation_id": rec.pk,
                    "product_id": rec.product_id,
                    "product_name": rec.product.name,
                    "brand": rec.brand.name if rec.brand else "",
                    "cited": cited,
                }
            )
    return found


# --------------------------------------------------------------------------------------------
# The widget: cached per brand + customer
# --------------------------------------------------------------------------------------------


def widget_cache_key(brand_id: int, customer_id: int | None) -> str:
    return f"rec:widget:{brand_id}:{customer_id if customer_id is not None else 'anon'}"


def _item(product: Product, why: str | None) -> dict:
    return {
        "product_id": product.pk,
        "external_id": product.external_id,
        "name": product.name,
        "category": product.category,
        "price": str(product.price),
        "image_url": product.image_url,
        "why": why,
    }


def _why(cites: list[dict]) -> str | None:
    if not cites:
        return None
    parts = [f"{c['label']} on {date.fromisoformat(c['date']):%-d %b}" for c in cites[:2]]
    return "Because you " + " and ".join(parts)


def widget_items(*, brand, customer=None, n: int = 8) -> dict:
    """Items for the brand's widget: personal (with why) when allowed, popular otherwise.

    The switches are read on every call (one indexed query, recommendations.switches), so
    switching personalization or the results off takes effect at once even if a cached
    entry exists; results themselves are cached per brand + customer, built with the kind
    and point switches applied, and dropped on every toggle, purge, recompute and retrain.
    """
    state = switches.customer_switches(customer_id=customer.pk) if customer is not None else None
    personal_ok = state is not None and state.personalization(brand)
    key = widget_cache_key(brand.pk, customer.pk if personal_ok else None)
    payload = cache.get(key)
    if payload is None:
        payload = (
            _widget_personal(brand, customer, state, n) if personal_ok else None
        ) or _widget_popular(brand, n, anonymous=customer is None)
        if personal_ok and not payload["personalized"]:
            key = widget_cache_key(brand.pk, customer.pk)
        cache.set(key, payload, CACHE_TTL)
    if customer is not None and not payload["personalized"]:
        payload = {**payload, "label": POPULAR_LABEL}
    return payload


def _widget_personal(brand, customer, state, n: int) -> dict | None:
    recs = list(
        Recommendation.objects.filter(
            customer=customer, brand=brand, in_use=True, is_popular=False, product__active=True
        )
        .select_related("product")
        .order_by("rank")[: n * 2]  # room for picks whose every reason was switched off
    )
    live = switches.usable_points(recs, {customer.pk: state})
    items = []
    for rec in recs:
        cites = switches.usable_cites(rec, live)
        if switches.showable(rec, cites) and len(items) < n:
            items.append(_item(rec.product, _why(cites)))
    if not items:
        return None
    return {"personalized": True, "label": PERSONAL_LABEL, "items": items}


def _widget_popular(brand, n: int, *, anonymous: bool) -> dict:
    products = popular_products(brand_ids=[brand.pk], n=n).get(brand.pk)
    if not products:
        products = list(Product.objects.filter(brand=brand, active=True).order_by("name")[:n])
    return {
        "personalized": False,
        "label": ANONYMOUS_LABEL if anonymous else POPULAR_LABEL,
        "items": [_item(p, None) for p in products],
    }
