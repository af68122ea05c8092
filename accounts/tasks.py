from celery import shared_task

from . import outbox


@shared_task(name="outbox.relay", soft_time_limit=60, time_limit=90, acks_late=True)
def relay_outbox() -> int:
    return outbox.relay_pending()
