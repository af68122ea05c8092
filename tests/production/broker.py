"""Point this process's Celery app at another broker for a while (fault tests).

Only this test process changes: the machine's shared Redis is never stopped.
"""

import socket
from contextlib import contextmanager

from django.conf import settings

from config.celery import app as celery_app


def closed_port() -> int:
    """A loopback port nothing listens on (bound, then released, never listened)."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    sock.close()
    return port


def _reset_pools() -> None:
    # Drop the app's references only: kombu keeps one pool per broker URL, and the
    # original URL's pools must still work when it is restored.
    celery_app._pool = None
    celery_app.amqp._producer_pool = None


@contextmanager
def broker_at(url: str):
    previous = celery_app.conf.broker_url
    previous_options = dict(celery_app.conf.broker_transport_options or {})
    _reset_pools()
    celery_app.conf.broker_url = url
    if url.startswith("redis"):
        # The production settings' bounded options, whichever broker this run uses.
        celery_app.conf.broker_transport_options = dict(settings.REDIS_BROKER_TRANSPORT_OPTIONS)
    try:
        yield
    finally:
        _reset_pools()
        celery_app.conf.broker_url = previous
        celery_app.conf.broker_transport_options = previous_options
