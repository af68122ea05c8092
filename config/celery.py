"""Celery app, as in Celery's "First steps with Django".

Broker: Redis when REDIS_URL is set, otherwise kombu's filesystem transport under var/
(configured in settings), so a fresh machine needs no server. No result backend: task
state lives in our own tables.
"""

import os
import time

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

app = Celery("candor")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()

PONG_KEY = "diagnostics:pong:{token}"


@app.task(name="diagnostics.ping", soft_time_limit=10, time_limit=20, ignore_result=True)
def ping(token: str) -> None:
    """Prove a worker consumed a message: leave a mark in the shared cache."""
    from django.core.cache import cache

    cache.set(PONG_KEY.format(token=token), time.time(), timeout=300)
    cache.set("diagnostics:worker_seen", time.time(), timeout=3600)
