"""/health/: is the database, the broker and a worker alive?

Monitoring and load balancers get `{"status": "ok"}`, or `{"status": "degraded"}` with
`waiting_for`: what it waits for, in words ("worker not seen yet: starting up"), never an
internal error. Staff, or a caller presenting settings.HEALTH_TOKEN in `X-Health-Token`,
also get each check.
The answer is 200 while the database answers (customer pages still work without the
broker: work waits in the outbox) and 503 when it does not. Every check is bounded by
short connect/socket timeouts, so the endpoint never hangs.
"""

import time

from django.conf import settings
from django.core.cache import cache
from django.db import connection
from django.http import JsonResponse
from django.utils.crypto import constant_time_compare
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

WORKER_SEEN_KEY = "diagnostics:worker_seen"
# The beat sends diagnostics.ping every 60 s; three missed beats mean no worker.
WORKER_STALE_AFTER = 180.0
BROKER_TIMEOUT = 1.0
# When this web process started: a worker not seen yet is "starting up" only this long.
STARTED_AT = time.time()


def check_database() -> dict:
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
    except Exception as exc:
        return {"ok": False, "error": type(exc).__name__, "waiting_for": "database not reachable"}
    return {"ok": True}


def check_broker() -> dict:
    from config.celery import app

    try:
        with app.connection_for_write(connect_timeout=BROKER_TIMEOUT) as conn:
            conn.ensure_connection(
                max_retries=0, interval_start=0, interval_step=0, timeout=BROKER_TIMEOUT
            )
            conn.default_channel  # noqa: B018 - opening a channel pings Redis
    except Exception as exc:
        return {
            "ok": False,
            "error": type(exc).__name__,
            "waiting_for": "broker not reachable: background work waits in the outbox",
        }
    return {"ok": True}


def _minutes(seconds: float) -> str:
    minutes = max(1, round(seconds / 60))
    return f"{minutes} minute{'s' if minutes != 1 else ''}"


def check_worker(*, now: float | None = None) -> dict:
    now = time.time() if now is None else now
    try:
        seen = cache.get(WORKER_SEEN_KEY)
    except Exception as exc:
        return {
            "ok": False,
            "error": type(exc).__name__,
            "waiting_for": "cache not reachable, so the worker's heartbeat cannot be read",
        }
    if seen is None:
        up = now - STARTED_AT
        if up <= WORKER_STALE_AFTER:
            waiting = "worker not seen yet: starting up (the first heartbeat comes within a minute)"
        else:
            waiting = (
                f"worker not seen since this server started {_minutes(up)} ago: is it running?"
            )
        return {"ok": False, "error": "no worker heartbeat seen", "waiting_for": waiting}
    age = max(0.0, now - float(seen))
    found = {"ok": age <= WORKER_STALE_AFTER, "last_seen_seconds_ago": round(age, 1)}
    if not found["ok"]:
        found["waiting_for"] = f"worker last seen {_minutes(age)} ago: is it still running?"
    return found


def _detailed(request) -> bool:
    token = settings.HEALTH_TOKEN
    presented = request.headers.get("X-Health-Token", "")
    if token and presented and constant_time_compare(token, presented):
        return True
    user = getattr(request, "user", None)
    return bool(user is not None and user.is_authenticated and user.is_staff)


@never_cache
@require_GET
def health(request):
    checks = {
        "database": check_database(),
        "broker": check_broker(),
        "worker": check_worker(),
    }
    ok = all(check["ok"] for check in checks.values())
    body: dict = {"status": "ok" if ok else "degraded"}
    if not ok:
        body["waiting_for"] = [c["waiting_for"] for c in checks.values() if not c["ok"]]
    if _detailed(request):
        body["checks"] = checks
    return JsonResponse(body, status=200 if checks["database"]["ok"] else 503)
