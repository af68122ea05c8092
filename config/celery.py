"""Celery app, as in Celery's "First steps with Django".

Broker: Redis when REDIS_URL is set, otherwise kombu's filesystem transport under var/
(configured in settings), so a fresh machine needs no server. No result backend: task
state lives in our own tables.

Crash safety (F4): tasks ack late and are rejected back to the queue when the process
running them dies (settings: acks_late, reject_on_worker_lost, prefetch 1). With Redis a
message that is not acked within `visibility_timeout` is handed to another worker, so
that timeout must exceed every task's hard time limit: a worker refuses to start
otherwise (`check_visibility_timeout`, on `worker_init`).
"""

import os
import time

from celery import Celery
from celery.signals import worker_init

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

app = Celery("candor")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()

PONG_KEY = "diagnostics:pong:{token}"


class VisibilityTimeoutTooShort(RuntimeError):
    pass


def longest_time_limit(celery_app) -> float:
    """The longest hard time limit any registered task (or the default) can run for."""
    celery_app.loader.import_default_modules()
    limits = [celery_app.conf.task_time_limit or 0]
    for name, task in celery_app.tasks.items():
        if name.startswith("celery."):
            continue
        limits.append(getattr(task, "time_limit", None) or celery_app.conf.task_time_limit or 0)
    return float(max(limits))


def check_visibility_timeout(celery_app) -> None:
    """Refuse a Redis broker whose visibility timeout would redeliver running tasks."""
    url = str(celery_app.conf.broker_url or "")
    if not url.startswith(("redis://", "rediss://", "redis+socket://")):
        return
    options = celery_app.conf.broker_transport_options or {}
    visibility = float(options.get("visibility_timeout", 3600))  # kombu's default
    longest = longest_time_limit(celery_app)
    if not celery_app.conf.task_time_limit or visibility <= longest:
        raise VisibilityTimeoutTooShort(
            f"broker_transport_options['visibility_timeout'] is {visibility:g} s but a task "
            f"may run for {longest:g} s (hard time limit); Redis would hand a running task "
            "to a second worker. Raise CELERY_VISIBILITY_TIMEOUT above the longest task "
            "time limit, or lower that limit (and set a default task_time_limit)."
        )


@worker_init.connect
def _assert_visibility_timeout(sender=None, **kwargs):
    # Celery logs and swallows exceptions raised by signal handlers; SystemExit is not
    # swallowed, so the worker really stops, with the reason on stderr.
    try:
        check_visibility_timeout(getattr(sender, "app", None) or app)
    except VisibilityTimeoutTooShort as exc:
        raise SystemExit(f"Refusing to start the worker: {exc}") from exc


@app.task(name="diagnostics.ping", soft_time_limit=10, time_limit=20, ignore_result=True)
def ping(token: str) -> None:
    """Prove a worker consumed a message: leave a mark in the shared cache."""
    from django.core.cache import cache

    cache.set(PONG_KEY.format(token=token), time.time(), timeout=300)
    cache.set("diagnostics:worker_seen", time.time(), timeout=3600)
