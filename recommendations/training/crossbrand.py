"""Another brand's signals for this brand's ranking, only as the customer chooses.

The customer's switch is the purpose "Sharing across the group's brands"
(``Purpose.CROSS_BRAND``: off by default in every sensitivity profile). A customer's
signals at brand B reach brand T's list only when that purpose is allowed for them on both
brands (their own choice, or where they made none, both brands' defaults). Everyone else
gets no foreign row at all: their other brands' data is not even read
(:func:`foreign` queries other brands for the allowed customers only), and
``ml.crossbrand.foreign_rows`` masks by the same consent again.

Signals cross at category level (``ml.crossbrand``): B's product categories are mapped
by name onto T's, and the explanation cites the customer's own newest positive point in
that category at B ("because you bought X at Brand B"), read and still switchable like any
of their points.
"""

from __future__ import annotations

import dataclasses
import json
from typing import Any

import numpy as np
from scipy import sparse

from accounts.models import Brand, Purpose, PurposeConsent
from accounts.profiles import purpose_default

from ..ml import crossbrand
from . import extract
from .data import TrainingData
from .explanations import SEPARATORS

#: Above this many categories the category model (categories x items, dense) is skipped.
MAX_CATEGORIES = 1000


@dataclasses.dataclass
class Categories:
    """This brand's category codes of the model's items and the category model."""

    names: np.ndarray  # category names; code = index
    of_item: np.ndarray  # code of each model item (-1: none)
    model: crossbrand.CategoryModel

    def arrays(self) -> dict[str, np.ndarray]:
        return {
            "category_names": self.names.astype(str),
            "category_of_item": self.of_item.astype(np.int64),
            "category_weights": self.model.weights,
        }

    @classmethod
    def from_arrays(cls, f: Any) -> Categories | None:
        if "category_names" not in f.files:
            return None
        weights = crossbrand.CategoryModel(f["category_weights"])
        return cls(f["category_names"], f["category_of_item"], weights)


def categories(
    data: TrainingData, item_ids: np.ndarray, positive: sparse.csr_matrix
) -> Categories | None:
    """The category model of this brand from its own customers' positive signals."""
    names = [data.products.get(int(p), ("", "", False))[1] for p in item_ids.tolist()]
    known = sorted({n for n in names if n})
    if not known or len(known) > MAX_CATEGORIES:
        return None
    code = {name: i for i, name in enumerate(known)}
    of_item = np.array([code.get(n, -1) for n in names], dtype=np.int64)
    membership = crossbrand.item_categories(of_item, len(known))
    model = crossbrand.fit_category_model(positive, membership)
    return Categories(np.array(known), of_item, model)


@dataclasses.dataclass
class Foreign:
    """Foreign evidence of some customers (rows in the order they were asked for)."""

    core: crossbrand.Foreign
    cites: dict[tuple[int, int], str]  # (customer, category code) -> JSON entry
    n_allowed: int

    def add_cites(self, explanations: list[str], customers: np.ndarray, cited: np.ndarray):
        """Append the foreign points behind each recommendation to its explanation."""
        for rec in np.flatnonzero(cited[:, 0] >= 0).tolist():
            entries = [
                self.cites[key]
                for key in ((int(customers[rec]), int(c)) for c in cited[rec] if c >= 0)
                if key in self.cites
            ]
            if entries:
                own = json.loads(explanations[rec])
                explanations[rec] = json.dumps(
                    own + [json.loads(e) for e in entries],
                    ensure_ascii=False,
                    separators=SEPARATORS,
                )


def choices(customer_ids: list[int]) -> dict[int, bool]:
    """Every explicit choice about sharing across brands among ``customer_ids`` (one query;
    a handful of ids are filtered in SQL, a whole brand's in Python)."""
    rows = PurposeConsent.objects.filter(purpose=Purpose.CROSS_BRAND)
    if len(customer_ids) <= 100:
        rows = rows.filter(customer_id__in=customer_ids)
    wanted = set(customer_ids)
    return {c: g for c, g in rows.values_list("customer_id", "granted") if c in wanted}


def allowed_customers(
    brand: Brand, other: Brand, customer_ids: list[int], explicit: dict[int, bool]
) -> list[int]:
    """Who allows sharing across the group's brands for this pair of brands: their own
    choice, or where they made none, both brands' defaults."""
    default = purpose_default(brand.sensitivity, Purpose.CROSS_BRAND) and purpose_default(
        other.sensitivity, Purpose.CROSS_BRAND
    )
    return [c for c in customer_ids if explicit.get(c, default)]


def foreign(
    data: TrainingData, cats: Categories | None, customer_ids: np.ndarray
) -> Foreign | None:
    """Other brands' positive signals of ``customer_ids`` who allow it, as category rows
    aligned with ``customer_ids``; None when nothing may cross."""
    if cats is None or len(customer_ids) == 0:
        return None
    ids = [int(c) for c in customer_ids.tolist()]
    position = {c: i for i, c in enumerate(ids)}
    code = {str(name): i for i, name in enumerate(cats.names.tolist())}
    users: list[np.ndarray] = []
    codes: list[np.ndarray] = []
    newest: dict[tuple[int, int], tuple[float, str]] = {}
    allowed = np.zeros(len(ids), dtype=bool)
    explicit = choices(ids)
    for other in Brand.objects.exclude(pk=data.brand.pk):
        who = allowed_customers(data.brand, other, ids, explicit)
        if not who:
            continue
        allowed[[position[c] for c in who]] = True
        theirs = extract.training_data(brand_id=other.pk, customer_ids=who)
        rows = np.flatnonzero(theirs.point_positive)
        if len(rows) == 0:
            continue
        names = [theirs.products.get(int(p), ("", "", False))[1] for p in theirs.point_items[rows]]
        cat = np.array([code.get(n, -1) for n in names], dtype=np.int64)
        rows, cat = rows[cat >= 0], cat[cat >= 0]
        point_users = np.array([position[int(c)] for c in theirs.point_users[rows]], np.int64)
        users.append(point_users)
        codes.append(cat)
        _newest_cites(newest, theirs, other, rows, point_users, cat, ids)
    n_allowed = int(allowed.sum())
    if not users or n_allowed == 0:
        return None
    user_arr, code_arr = np.concatenate(users), np.concatenate(codes)
    matrix = crossbrand.foreign_rows(
        user_arr, code_arr, np.ones(len(user_arr)), allowed, (len(ids), len(cats.names))
    )
    cites = {key: text for key, (_, text) in newest.items()}
    return Foreign(crossbrand.Foreign(matrix, cats.model), cites, n_allowed)


def _newest_cites(newest, theirs, other: Brand, rows, point_users, cat, ids) -> None:
    """Per (customer, category): their newest positive point at ``other`` as a JSON entry."""
    labels = theirs.point_labels(rows, suffix=f" at {other.name}")
    days = (theirs.point_stamps[rows] * 1e6).astype("datetime64[us]").astype("datetime64[D]")
    for i, (user, c) in enumerate(zip(point_users.tolist(), cat.tolist(), strict=True)):
        key = (ids[user], c)
        stamp = float(theirs.point_stamps[rows[i]])
        if key in newest and newest[key][0] >= stamp:
            continue
        entry = (
            f'{{"kind":"{theirs.point_kinds[rows[i]]}","pk":{int(theirs.point_pks[rows[i]])},'
            f'"product_id":{int(theirs.point_items[rows[i]])},"label":{labels[i]},'
            f'"date":"{days[i]}","brand_id":{other.pk}}}'
        )
        newest[key] = (stamp, entry)
