from celery import shared_task

from . import outbox, services


@shared_task(name="outbox.relay", soft_time_limit=60, time_limit=90, acks_late=True)
def relay_outbox() -> int:
    return outbox.relay_pending()


@shared_task(name="accounts.sessions_purge", soft_time_limit=300, time_limit=360, acks_late=True)
def sessions_purge() -> int:
    """Periodic: delete expired sessions (idempotent)."""
    return services.sessions_purge_expired()
