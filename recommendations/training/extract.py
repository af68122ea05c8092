"""Database -> arrays: a brand's allowed signals, one query per table.

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
from datetime import datetime
from typing import Any

import numpy as np
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

from ..ml.signals import dense_codes, signals_to_ratings_indexed
from .data import KEY, VERBS, TrainingData

# Event kinds the model reads (search terms and impressions say nothing about one product).
MODEL_EVENT_KINDS = ("rating", "click", "widget_click", "view", "add_to_cart", "not_interested")


class _Epoch(Func):
    """Seconds since 1970 (UTC) of a datetime column, computed by the database.

    Reading epoch floats skips Django's per-row datetime parsing (the slowest part of
    extracting 100k rows on SQLite); times are turned into dates only for what is shown.
    SQLite's julianday keeps millisecond precision.
    """

    output_field = FloatField()

    def as_sql(
        self,
        compiler: Any,
        connection: Any,
        function: str | None = None,
        template: str | None = None,
        arg_joiner: str | None = None,
        **extra: Any,
    ) -> Any:
        template = "CAST(EXTRACT(EPOCH FROM %(expressions)s) AS double precision)"
        return super().as_sql(compiler, connection, function, template, arg_joiner, **extra)

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
    return ExpressionWrapper(F(customer) * KEY + F(product), output_field=BigIntegerField())


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
    values, codes = dense_codes(customers)
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


    Longer than 50 lines: the queries, the consent rules evaluated once per customer and
    the columns built from them share the same per-row arrays; splitting it would pass a
    dozen arrays between the parts.
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

    if products and max(products) >= KEY:
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
    e_cid, l_cid = e["pair"] // KEY, bought["pair"] // KEY
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
        "users": pairs // KEY,
        "items": pairs % KEY,
        "kinds": np.concatenate([e["pk_kind"] & _KIND_MASK, np.full(len(bought), _PURCHASE)]),
        "values": np.concatenate([e["value"], np.full(len(bought), np.nan)]),
        "stamps": np.concatenate([e["at"], bought["at"]]),
        "point_kinds": np.concatenate([np.zeros(len(e), np.intp), np.ones(len(bought), np.intp)]),
        "pks": np.concatenate([e["pk_kind"] >> _KIND_BITS, bought["order"]]),
    }
    return _to_ratings(brand, columns, products, allowed, now, hour_users, hours)


def _to_ratings(brand, cols, products, allowed, now, hour_users, hours) -> TrainingData:
    users, items, stamps = cols["users"], cols["items"], cols["stamps"]
    triples, pair_of_row = signals_to_ratings_indexed(
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
