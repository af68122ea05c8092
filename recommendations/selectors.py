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

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import UTC, date, datetime

import numpy as np
from django.core.cache import cache
from django.db import connection
from django.db.models import FloatField, Func
from django.utils import timezone

from accounts.models import Brand, KindSetting, Purpose, PurposeConsent
from accounts.profiles import purpose_default
from ledger.models import Event, Order, OrderLine, Product

from . import ml
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


def _columns(queryset, n: int) -> list[list]:
    """Rows of a ``values_list`` query as ``n`` columns, fetched with one raw query
    (no per-row model or converter work; every column here is a plain number or string)."""
    sql, params = queryset.order_by().query.sql_with_params()  # no ORDER BY: order is ours
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        rows = cursor.fetchall()
    return [list(col) for col in zip(*rows, strict=True)] if rows else [[] for _ in range(n)]


@dataclass
class TrainingData:
    """One rating per allowed (customer, product) pair, plus the points behind each pair.

    The points are kept as parallel arrays sorted by (customer, product, newest first), so
    an explanation can look up the few it cites without a Python object per row.
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
    point_users: np.ndarray = field(default_factory=lambda: np.empty(0, dtype=np.int64))
    point_items: np.ndarray = field(default_factory=lambda: np.empty(0, dtype=np.int64))
    point_kinds: np.ndarray = field(default_factory=lambda: np.empty(0, dtype=str))
    point_pks: np.ndarray = field(default_factory=lambda: np.empty(0, dtype=np.int64))
    point_verbs: np.ndarray = field(default_factory=lambda: np.empty(0, dtype=str))
    point_stamps: np.ndarray = field(default_factory=lambda: np.empty(0))

    @property
    def n_ratings(self) -> int:
        return len(self.ratings)

    def _point_keys(self, users, items) -> np.ndarray:
        return np.asarray(users, dtype=np.int64) * _KEY + np.asarray(items, dtype=np.int64)

    def point_rows(self, customer_id: int, product_id: int) -> np.ndarray:
        """Indices of this pair's points, newest first (at most MAX_POINTS_PER_PAIR)."""
        keys = self._point_keys(self.point_users, self.point_items)
        key = int(customer_id) * _KEY + int(product_id)
        lo, hi = np.searchsorted(keys, [key, key + 1])
        return np.arange(lo, min(hi, lo + MAX_POINTS_PER_PAIR))

    def cites(self, customer_ids, product_ids) -> list[list[dict]]:
        """For each (customer, product) pair, the customer's own points behind it (newest
        first, at most MAX_POINTS_PER_PAIR) as explanation entries. Vectorised lookup."""
        keys = self._point_keys(self.point_users, self.point_items)
        wanted = self._point_keys(customer_ids, product_ids)
        lo = np.searchsorted(keys, wanted, side="left")
        hi = np.minimum(np.searchsorted(keys, wanted, side="right"), lo + MAX_POINTS_PER_PAIR)
        # Dates only for the rows cited (one vectorised conversion).
        lengths = np.maximum(hi - lo, 0)
        offsets = np.concatenate([[0], np.cumsum(lengths)[:-1]]).astype(np.intp)
        rows = np.repeat(lo - offsets, lengths) + np.arange(int(lengths.sum()))
        days = (self.point_stamps[rows] * 1e6).astype("datetime64[us]").astype("datetime64[D]")
        date_of = dict(zip(rows.tolist(), days.astype(str).tolist(), strict=True))
        kinds = self.point_kinds.tolist() if len(rows) else []
        pks = self.point_pks.tolist() if len(rows) else []
        verbs = self.point_verbs.tolist() if len(rows) else []
        dates = date_of
        out = []
        for pid, start, stop in zip(
            np.asarray(product_ids).tolist(), lo.tolist(), hi.tolist(), strict=True
        ):
            name = self.products.get(pid, ("a product",))[0]
            out.append(
                [
                    {
                        "kind": kinds[r],
                        "pk": pks[r],
                        "product_id": pid,
                        "label": f"{verbs[r]} {name}",
                        "date": dates[r],
                    }
                    for r in range(start, stop)
                ]
            )
        return out

    @property
    def points(self) -> dict[tuple[int, int], list[Point]]:
        """Every pair's points as objects (for tests and small callers; training uses
        :meth:`cites`)."""
        found: dict[tuple[int, int], list[Point]] = defaultdict(list)
        for cid, pid, kind, pk, verb, stamp in zip(
            self.point_users.tolist(),
            self.point_items.tolist(),
            self.point_kinds.tolist(),
            self.point_pks.tolist(),
            self.point_verbs.tolist(),
            self.point_stamps.tolist(),
            strict=True,
        ):
            found[(cid, pid)].append(Point(kind, pk, verb, datetime.fromtimestamp(stamp, tz=UTC)))
        return found


_KEY = 1 << 31  # customer * _KEY + product: one int64 key per pair (ids stay below 2**31)


def _purposes(brand: Brand, customer_id: int | None) -> dict[tuple[int, str], bool]:
    rows = PurposeConsent.objects.filter(purpose__in=[Purpose.PERSONALIZATION, Purpose.CONTACT])
    if customer_id is not None:
        rows = rows.filter(customer_id=customer_id)
    return {(c, p): g for c, p, g in rows.values_list("customer_id", "purpose", "granted")}


def purpose_allowed(
    consents: dict[tuple[int, str], bool], brand: Brand, customer_id: int, purpose: str
) -> bool:
    found = consents.get((customer_id, purpose))
    return purpose_default(brand.sensitivity, purpose) if found is None else found


def _allowed_mask(customers: np.ndarray, allowed) -> np.ndarray:
    """``allowed(cid)`` for every row, evaluated once per distinct customer."""
    if len(customers) == 0:
        return np.zeros(0, dtype=bool)
    values, codes = np.unique(customers, return_inverse=True)
    table = np.array([bool(allowed(int(c))) for c in values.tolist()], dtype=bool)
    return table[codes.reshape(-1)]


def training_data(
    *, brand_id: int, customer_id: int | None = None, now: datetime | None = None
) -> TrainingData:
    """Allowed interactions of a brand (or one of its customers) as one rating per pair.

    One query per table; rows come back as columns of numbers (times as epoch seconds), and
    every consent rule is applied as a vectorised mask, once per distinct customer.
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
    off: dict[int, set[str]] = defaultdict(set)
    for cid, kind in kinds_off.values_list("customer_id", "data_kind"):
        off[cid].add(kind)
    products = {
        pk: (name, category, active)
        for pk, name, category, active in Product.objects.filter(brand_id=brand_id).values_list(
            "pk", "name", "category", "active"
        )
    }

    allowed: dict[int, bool] = {}

    def personal(cid: int) -> bool:
        if cid not in allowed:
            allowed[cid] = purpose_allowed(consents, brand, cid, Purpose.PERSONALIZATION)
        return allowed[cid]

    if customer_id is not None:
        personal(customer_id)  # always answered for the customer asked about

    e_pk, e_cid, e_pid, e_kind, e_value, e_when = _columns(
        events.annotate(epoch=_Epoch("occurred_at")).values_list(
            "pk", "customer_id", "product_id", "kind", "value", "epoch"
        ),
        6,
    )
    l_order, l_cid, l_pid, l_when = _columns(
        lines.annotate(epoch=_Epoch("order__placed_at")).values_list(
            "order_id", "order__customer_id", "product_id", "epoch"
        ),
        4,
    )
    e_cid = np.array(e_cid, dtype=np.int64)
    e_when = np.array(e_when, dtype=np.float64)
    event_on = _allowed_mask(e_cid, lambda c: "event" not in off.get(c, ()))
    contact = event_on & _allowed_mask(
        e_cid, lambda c: purpose_allowed(consents, brand, c, Purpose.CONTACT)
    )
    event_rows = event_on & _allowed_mask(e_cid, personal)
    l_cid = np.array(l_cid, dtype=np.int64)
    line_rows = _allowed_mask(
        l_cid, lambda c: not (off.get(c, set()) & {"order", "order_line"}) and personal(c)
    )

    e_kind_arr = np.array(e_kind, dtype=str)
    n_e, n_l = int(event_rows.sum()), int(line_rows.sum())
    columns = {
        "users": np.concatenate([e_cid[event_rows], l_cid[line_rows]]),
        "items": np.concatenate(
            [
                np.array(e_pid, dtype=np.int64)[event_rows],
                np.array(l_pid, dtype=np.int64)[line_rows],
            ]
        ),
        "kinds": np.concatenate([e_kind_arr[event_rows], np.full(n_l, "purchase")]),
        "values": np.concatenate(
            [np.array(e_value, dtype=np.float64)[event_rows], np.full(n_l, np.nan)]
        ),
        "stamps": np.concatenate(
            [e_when[event_rows], np.array(l_when, dtype=np.float64)[line_rows]]
        ),
        "point_kinds": np.concatenate([np.full(n_e, "event"), np.full(n_l, "order")]),
        "pks": np.concatenate(
            [
                np.array(e_pk, dtype=np.int64)[event_rows],
                np.array(l_order, dtype=np.int64)[line_rows],
            ]
        ),
    }
    hours = ((e_when[contact] // 3600) % 24).astype(np.int64)
    return _to_ratings(brand, columns, products, allowed, now, e_cid[contact], hours)


def _to_ratings(brand, cols, products, allowed, now, hour_users, hours) -> TrainingData:
    users, items, stamps = cols["users"], cols["items"], cols["stamps"]
    if len(users):
        triples = ml.signals_to_ratings(
            users, items, cols["kinds"], cols["values"], (now.timestamp() - stamps) / 86400.0
        )
        # Newest signal per pair, in the same (user, item) order as the triples.
        key = users * _KEY + items
        _, codes = np.unique(key, return_inverse=True)
        newest = np.full(len(triples.users), -np.inf)
        np.maximum.at(newest, codes.reshape(-1), stamps)
    else:
        empty = np.empty(0, dtype=np.int64)
        triples = ml.Triples(empty, empty, np.empty(0))
        newest = np.empty(0)
    kind_names, kind_codes = np.unique(cols["kinds"], return_inverse=True)
    verbs = np.array([VERBS.get(str(k), "rated") for k in kind_names.tolist()] or [""], dtype=str)
    order = np.lexsort((-cols["pks"], -stamps, items, users))
    return TrainingData(
        brand=brand,
        users=triples.users,
        items=triples.items,
        ratings=triples.ratings,
        stamps=newest,
        products=products,
        personalization=allowed,
        hour_users=np.asarray(hour_users, dtype=np.int64),
        hours=np.asarray(hours, dtype=np.int64),
        point_users=users[order],
        point_items=items[order],
        point_kinds=cols["point_kinds"][order].astype(str),
        point_pks=cols["pks"][order],
        point_verbs=verbs[kind_codes.reshape(-1)][order] if len(users) else np.empty(0, dtype=str),
        point_stamps=stamps[order],
    )


def point_label(point: Point, product_name: str) -> str:
    return f"{point.verb} {product_name}"


# --------------------------------------------------------------------------------------------
# Results: the dashboard page
# --------------------------------------------------------------------------------------------


def _cited_in_use(recommendations) -> set[tuple[str, int]]:
    """Which cited points are still in use now (2 queries), so a point switched off since the
    last computation is never shown as a reason, even before the recompute lands."""
    wanted: dict[str, set[int]] = defaultdict(set)
    for rec in recommendations:
        for cite in rec.explanation:
            wanted[cite["kind"]].add(cite["pk"])
    live: set[tuple[str, int]] = set()
    customer_ids = {rec.customer_id for rec in recommendations}
    if wanted.get("event"):
        live |= {
            ("event", pk)
            for pk in Event.objects.filter(
                pk__in=wanted["event"], customer_id__in=customer_ids, in_use=True
            ).values_list("pk", flat=True)
        }
    if wanted.get("order"):
        live |= {
            ("order", pk)
            for pk in Order.objects.filter(
                pk__in=wanted["order"], customer_id__in=customer_ids, in_use=True, is_gift=False
            ).values_list("pk", flat=True)
        }
    return live


def _cites(rec, live: set[tuple[str, int]]) -> list[dict]:
    return [
        {**cite, "date": date.fromisoformat(cite["date"])}
        for cite in rec.explanation
        if (cite["kind"], cite["pk"]) in live
    ]


def recommendations_page(*, user) -> dict:
    """Everything the Recommendations page shows, in a bounded number of queries (owner
    scoped through the signed-in user, so the customer row itself needs no query)."""
    owner = {"customer__user_id": user.pk}
    recs = list(
        Recommendation.objects.filter(in_use=True, **owner)
        .select_related("product", "brand")
        .order_by("brand__name", "rank")
    )
    live = _cited_in_use(recs)
    brands: dict[int, dict] = {}
    for rec in recs:
        group = brands.setdefault(
            rec.brand_id, {"brand": rec.brand, "items": [], "cold_start": True}
        )
        group["items"].append({"rec": rec, "cites": _cites(rec, live)})
        if not rec.is_popular:
            group["cold_start"] = False
    interests = list(InferredInterest.objects.filter(**owner).select_related("brand"))
    hours = list(ContactHourInference.objects.filter(**owner).select_related("brand"))
    return {
        "groups": list(brands.values()),
        "interests": interests,
        "contact_hours": hours,
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

    The consent check runs on every call (one indexed query), so switching personalization
    off takes effect at once even if a cached entry exists; results themselves are cached
    per brand + customer and invalidated on purge, recompute and retrain.
    """
    personal_ok = False
    if customer is not None:
        consent = (
            PurposeConsent.objects.filter(customer=customer, purpose=Purpose.PERSONALIZATION)
            .values_list("granted", flat=True)
            .first()
        )
        personal_ok = (
            purpose_default(brand.sensitivity, Purpose.PERSONALIZATION)
            if consent is None
            else consent
        )
    key = widget_cache_key(brand.pk, customer.pk if personal_ok else None)
    payload = cache.get(key)
    if payload is None:
        payload = (
            _widget_personal(brand, customer, n) if personal_ok else None
        ) or _widget_popular(brand, n, anonymous=customer is None)
        if personal_ok and not payload["personalized"]:
            key = widget_cache_key(brand.pk, customer.pk)
        cache.set(key, payload, CACHE_TTL)
    if customer is not None and not payload["personalized"]:
        payload = {**payload, "label": POPULAR_LABEL}
    return payload


def _widget_personal(brand, customer, n: int) -> dict | None:
    recs = list(
        Recommendation.objects.filter(
            customer=customer, brand=brand, in_use=True, is_popular=False, product__active=True
        )
        .select_related("product")
        .order_by("rank")[:n]
    )
    if not recs:
        return None
    live = _cited_in_use(recs)
    items = []
    for rec in recs:
        cites = [c for c in rec.explanation if (c["kind"], c["pk"]) in live]
        items.append(_item(rec.product, _why(cites)))
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
