from celery import shared_task


@shared_task(name="ledger.messages_dispatch", soft_time_limit=300, time_limit=360, acks_late=True)
def messages_dispatch() -> int:
    """Send due messages (periodically, and when a batch due now arrives). Claims are
    conditional, so two runs at once never send a message twice."""
    from .messages.dispatch import messages_dispatch as dispatch

    return dispatch().sent
