"""Writes for recommendations: the façade other apps and tasks call.

Requests (a recompute, a retrain: through the outbox, published only after commit), one
customer's recompute and purge, their feedback from the page, and cache invalidation. The
pipeline itself is in :mod:`recommendations.training` (a brand's retrain:
:func:`~recommendations.training.run.train_brand`); the demo loaders in
:mod:`recommendations.demo`. Both are re-exported here under their old names.

A customer's recompute folds their current data into the active model, so a change to
their data shows within seconds, without a brand retrain.
"""

from __future__ import annotations

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from accounts import outbox
from accounts.audit import Actor, audit_record
from accounts.locks import customers_lock
from accounts.models import Brand, Customer
from ledger.events import events_create
from ledger.models import Event, EventKind, Product, Source

from .demo import demo_seed, movielens_load  # noqa: F401  (re-exported)
from .models import ContactHourInference, InferredInterest, Recommendation, TrainingRun
from .training import artefacts, extract, rank, writer
from .training.rows import Recs  # noqa: F401  (re-exported)
from .training.run import (  # noqa: F401  (re-exported)
    RETUNE_SHARE,
    STALE_PENDING,
    STALE_RUNNING,
    TRANSIENT,
    brand_requests_lock,
    train_brand,
    training_run_claim,
)

RECOMPUTE_DEBOUNCE_SECONDS = 3
# A burst of switch-offs and deletions (one person's, or many people's) waits this long for
# the rest of the burst, then costs one retrain.
RETRAIN_DEBOUNCE_SECONDS = getattr(settings, "RETRAIN_DEBOUNCE_SECONDS", 5)


def customer_recompute_request(*, customer_id: int) -> None:
    """Recompute this customer's results soon; many changes in a few seconds give one run."""
    outbox.enqueue(
        task="recommendations.recompute_customer",
        kwargs={"customer_id": customer_id},
        dedupe_key=f"recompute:{customer_id}",
        countdown=RECOMPUTE_DEBOUNCE_SECONDS,
    )


@transaction.atomic
def brand_retrain_request(*, brand_id: int, reason: str, withdrawn: bool = False) -> bool:
    """Ask for a retrain soon; returns True when a new run was asked for.

    A run still waiting absorbs the request, so a burst of switch-offs and deletions costs
    one retrain. It starts RETRAIN_DEBOUNCE_SECONDS after the first request of the burst (a
    short countdown through the outbox, never a long broker ETA). What the run trained
    without is marked when it succeeds (signals.training_run_succeeded).

    ``withdrawn``: data went (a switch-off, a deletion, a retention sweep). The time is
    kept on the run asked for (or the one waiting), so no model that may have read the
    data is the starting point of a later one (training.run._warm_source)."""
    brand_requests_lock(brand_id)
    now = timezone.now()
    waiting = TrainingRun.objects.filter(
        brand_id=brand_id,
        state=TrainingRun.State.PENDING,
        created_at__gte=now - STALE_PENDING,
    )
    absorbed = waiting.update(withdrawn_at=now) > 0 if withdrawn else waiting.exists()
    if absorbed:
        return False
    run = TrainingRun.objects.create(
        brand_id=brand_id, reason=reason[:60], withdrawn_at=now if withdrawn else None
    )
    outbox.enqueue(
        task="recommendations.train_brand",
        kwargs={"brand_id": brand_id, "run_id": run.pk},
        dedupe_key=f"train:{run.pk}",
        countdown=RETRAIN_DEBOUNCE_SECONDS,
    )
    return True


def customer_cache_forget(*, customer_id: int) -> None:
    """Drop the customer's cached results everywhere, now and again after commit (a
    concurrent read may refill a cache before this transaction commits). Called when
    their consent or a data point's use changes, so the widget reads fresh at once."""
    brand_ids = list(Brand.objects.values_list("pk", flat=True))
    writer.results_cache_forget(brand_ids=brand_ids, customer_ids=[customer_id])
    transaction.on_commit(
        lambda: writer.results_cache_forget(brand_ids=brand_ids, customer_ids=[customer_id])
    )


def nightly_retrain() -> int:
    """Ask for a retrain of every brand; returns how many were requested."""
    brand_ids = list(Brand.objects.values_list("pk", flat=True))
    for brand_id in brand_ids:
        brand_retrain_request(brand_id=brand_id, reason="nightly")
    return len(brand_ids)


def customer_recompute(*, customer_id: int) -> int:
    """Recompute one customer's results on every brand's active model; returns rows written.

    Their current allowed data is folded into the active model (training.rank_one: EASE
    scores are their history x B; ALS solves their factors against the fixed item factors),
    so new data counts and withdrawn data stops counting at once, without a brand retrain.
    Too little data, or no model yet: popular items, labelled as cold start. Purpose off: no
    personal results at all.
    """
    if not Customer.objects.filter(pk=customer_id).exists():
        return 0
    written = 0
    for run in TrainingRun.objects.filter(is_active=True).select_related("brand"):
        data = extract.training_data(brand_id=run.brand_id, customer_id=customer_id)
        artefact = artefacts.model_load(run.artefact_path)
        recs = rank.rank_one(data, customer_id, artefact, run.metrics.get("popular", []))
        interests, hours = rank.interests_and_hours(data)
        scope = {"brand_id": run.brand_id, "customer_id": customer_id}
        with transaction.atomic():
            if not customers_lock([customer_id]):
                return written  # erased meanwhile (accounts.locks): nothing to write for
            writer.results_write(scope, recs, interests, hours, run_id=run.pk)
            audit_record(
                actor=Actor.system("recommendations.recompute_customer"),
                customer=Customer(pk=customer_id),
                data_kind="recommendation",
                action="recompute",
                reason="your data or choices changed",
            )
        writer.results_cache_forget(brand_ids=[run.brand_id], customer_ids=[customer_id])
        written += len(recs) + len(interests) + len(hours)
    return written


@transaction.atomic
def customer_results_purge(*, customer_id: int) -> int:
    """Delete every stored result inferred for this customer and their cached copies."""
    deleted = 0
    for model in (Recommendation, InferredInterest, ContactHourInference):
        deleted += model.objects.filter(customer_id=customer_id).delete()[0]
    customer_cache_forget(customer_id=customer_id)
    return deleted


@transaction.atomic
def not_interested_record(*, customer: Customer, product_id: int) -> None:
    """Record "not interested" as an event the model reads, hide the item now, recompute.

    Nothing is recorded for a customer erased while the request was on its way."""
    if not customers_lock([customer.pk]):
        return
    product = Product.objects.get(pk=product_id)
    event = Event(
        customer=customer,
        brand=product.brand,
        source=Source.PROVIDED,
        kind=EventKind.NOT_INTERESTED,
        product=product,
        occurred_at=timezone.now(),
    )
    events_create(
        events=[event], actor=Actor.customer(customer), describe=lambda n: "not interested"
    )
    Recommendation.objects.filter(customer=customer, product_id=product_id).delete()
    transaction.on_commit(
        lambda: writer.results_cache_forget(
            brand_ids=[product.brand_id], customer_ids=[customer.pk]
        )
    )
    customer_recompute_request(customer_id=customer.pk)
