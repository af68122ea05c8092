"""A brand's extracted signals as one object: one rating per allowed pair, plus the
customer's own data points behind each pair (what an explanation cites) and their labels.

Built by :func:`recommendations.training.extract.training_data`; read by ranking (ratings,
codes), the profile (interests, hours) and the explanation writer
(:mod:`recommendations.training.explanations`).
"""

from __future__ import annotations

import json
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import cached_property

import numpy as np

from accounts.models import Brand

from ..ml.signals import NEUTRAL, dense_codes
from .explanations import MAX_POINTS_PER_PAIR, explanations_json

VERBS = {
    "purchase": "bought",
    "add_to_cart": "added to your cart",
    "click": "clicked",
    "widget_click": "clicked",
    "view": "viewed",
    "not_interested": "dismissed",
}
NEUTRAL_STARS = NEUTRAL  # the model's neutral point: what a reason must be above
KEY = 1 << 31  # customer * KEY + product: one int64 key per pair (ids stay below 2**31)
_LABELS = {"added to your cart": "added {name} to your cart"}


def label_words(verb: str, name: str, value: float = 0.0) -> str:
    """A reason in words: "rated X 5★", "bought X", "added X to your cart"."""
    if verb == "rated":
        return f"rated {name} {value:g}★"
    return _LABELS.get(verb, "{verb} {name}").format(verb=verb, name=name)


@dataclass
class Point:
    """One of the customer's own data points behind a (customer, product) rating."""

    kind: str  # the registry kind: "event" or "order"
    pk: int
    verb: str
    when: datetime
    value: float = float("nan")  # a rating's stars (NaN for other kinds)


def point_is_positive(point: Point) -> bool:
    """Whether a point may be cited as a reason (as ``TrainingData.point_positive``)."""
    if point.verb == "rated":
        return point.value > NEUTRAL_STARS
    return point.verb != "dismissed"


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
        self.user_index = dense_codes(self.users)
        self.item_index = dense_codes(self.items)

    def pair_of(self, customer_ids, product_ids) -> np.ndarray:
        """Index of each (customer, product) pair in the ratings (``-1``: not there). The
        ratings are sorted by (customer, product), so this is a binary search."""
        keys = self._pair_keys
        wanted = np.asarray(customer_ids, dtype=np.int64) * KEY + np.asarray(
            product_ids, dtype=np.int64
        )
        found = np.minimum(np.searchsorted(keys, wanted), max(len(keys) - 1, 0))
        hit = (keys[found] == wanted) if len(keys) else np.zeros(len(wanted), dtype=bool)
        return np.where(hit, found, -1)

    @cached_property
    def _pair_keys(self) -> np.ndarray:
        return np.asarray(self.users, dtype=np.int64) * KEY + np.asarray(self.items, np.int64)

    @cached_property
    def cited_order(self) -> tuple[np.ndarray, np.ndarray]:
        """Every point that may be cited (:attr:`point_positive`), by pair then newest
        first, and each one's pair: sorted once, then an explanation's points are a
        binary search away."""
        rows = self.newest_first(np.flatnonzero(self.point_positive))
        return rows, self.point_pairs[rows]

    def explanations_prepare(self) -> int:
        """Sort the citable points now (:attr:`cited_order`, cached; about 0.3 s at 1M
        events) rather than when the first explanation is written: training calls this
        while the model is still fitting on another thread. Returns how many there are."""
        return len(self.cited_order[0])

    def newest_first(self, rows: np.ndarray) -> np.ndarray:
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
        labels = self._labels.setdefault(suffix, {})
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
                words = label_words(verb, name, value) + suffix
                labels[key] = json.dumps(words, ensure_ascii=False)
            out.append(labels[key])
        return out

    @cached_property
    def _labels(self) -> dict[str, dict[tuple[str, int, float], str]]:
        """Labels made so far, per suffix (a customer's strongest items recur in every
        chunk of explanations)."""
        return {}

    @cached_property
    def _point_order(self) -> np.ndarray:
        return self.newest_first(np.arange(len(self.point_pairs)))

    def point_rows(self, customer_id: int, product_id: int) -> np.ndarray:
        """Indices of this pair's points, newest first (at most MAX_POINTS_PER_PAIR)."""
        (pair,) = self.pair_of([customer_id], [product_id])
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
        ``json.dumps(entries, ensure_ascii=False, separators=(",", ":"))``. Only the cited
        pairs' points are read.
        """
        return explanations_json(self, owners, customer_ids, product_ids, n)

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
