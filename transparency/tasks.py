from celery import shared_task

from . import services


@shared_task(
    name="transparency.retention_sweep", soft_time_limit=1800, time_limit=2400, acks_late=True
)
def retention_sweep() -> int:
    """Daily: delete what is past its retention, with receipts (idempotent)."""
    return services.retention_sweep()
