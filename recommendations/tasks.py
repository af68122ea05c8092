"""Thin, idempotent tasks: ids in, one service call. Enqueued only through the outbox."""

from celery import shared_task
from django.db import InterfaceError, OperationalError

from . import services

TRANSIENT = (OperationalError, InterfaceError, ConnectionError, TimeoutError)


@shared_task(
    name="recommendations.train_brand",
    acks_late=True,
    soft_time_limit=600,
    time_limit=900,
    autoretry_for=TRANSIENT,
    retry_backoff=5,
    retry_backoff_max=300,
    retry_jitter=True,
    max_retries=5,
)
def train_brand(
    brand_id: int, run_id: int | None = None, reason: str = "", receipt_id: int | None = None
) -> int | None:
    """Retrain one brand. The run claim makes a second delivery of the same message a no-op.

    (`receipt_id`: accepted from messages queued before receipts were marked by signal.)"""
    run = services.train_brand(brand_id=brand_id, run_id=run_id, reason=reason)
    return run.pk if run else None


@shared_task(
    name="recommendations.recompute_customer",
    acks_late=True,
    soft_time_limit=60,
    time_limit=90,
    autoretry_for=TRANSIENT,
    retry_backoff=2,
    retry_backoff_max=60,
    retry_jitter=True,
    max_retries=5,
)
def recompute_customer(customer_id: int) -> int:
    """Recompute one customer's results (replaces their set, so a rerun is harmless)."""
    return services.customer_recompute(customer_id=customer_id)


@shared_task(
    name="recommendations.nightly_retrain",
    acks_late=True,
    soft_time_limit=60,
    time_limit=90,
    autoretry_for=TRANSIENT,
    retry_backoff=True,
    max_retries=3,
)
def nightly_retrain() -> int:
    """Beat: ask for a retrain of every brand (a run still waiting absorbs the request)."""
    return services.nightly_retrain()
