"""Reads for recommendations: results for the dashboard page and the widget.

Training data extraction lives in :mod:`recommendations.training.extract` (re-exported
here: other apps and tests read ``selectors.training_data``).
"""

from __future__ import annotations

from datetime import date

from django.core.cache import cache

from ledger.models import Product

from . import switches
from .models import ContactHourInference, InferredInterest, Recommendation, TrainingRun
from .training.data import (  # noqa: F401  (re-exported: callers import them from here)
    MAX_POINTS_PER_PAIR,
    VERBS,
    Point,
    TrainingData,
    label_words,
    point_is_positive,
)
from .training.extract import (  # noqa: F401  (re-exported, as above)
    KIND_NAMES,
    MODEL_EVENT_KINDS,
    purpose_allowed,
    training_data,
)

POPULAR_LABEL = "Popular right now — we know little about you yet"
ANONYMOUS_LABEL = "Popular right now"
PERSONAL_LABEL = "Picked for you"
CACHE_TTL = 600


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
    brands: dict[int | None, dict] = {}
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
    items: list[dict] = []
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
