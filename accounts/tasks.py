from celery import shared_task

from . import outbox, services


@shared_task(name="outbox.relay", soft_time_limit=60, time_limit=90, acks_late=True)
def relay_outbox() -> int:
    return outbox.relay_pending()


@shared_task(name="accounts.sessions_purge", soft_time_limit=300, time_limit=360, acks_late=True)
def sessions_purge() -> int:
    """Periodic: delete expired sessions (idempotent)."""
    return services.sessions_purge_expired()


@shared_task(name="accounts.webhooks_dispatch", soft_time_limit=300, time_limit=360, acks_late=True)
def webhooks_dispatch() -> int:
    """Deliver due webhooks (after an emit, and periodically for retries). Claims are
    conditional, so runs at the same time never send a row twice."""
    from .webhook_dispatch import webhooks_dispatch as dispatch

    result = dispatch()
    return result.delivered


@shared_task(name="accounts.link_uses_purge", soft_time_limit=60, time_limit=90, acks_late=True)
def link_uses_purge() -> int:
    from .links import link_uses_purge as purge

    return purge()
