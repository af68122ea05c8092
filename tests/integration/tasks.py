"""A task for the fault tests, loaded by their real worker and by the test process only.

The worker loads this module because the test sets CANDOR_CELERY_IMPORTS (settings:
CELERY_IMPORTS) before starting it; the test process registers it by importing it, so the
outbox can publish it by name.

`diagnostics.record` takes `seconds`, then records `key` as done exactly once, however
often it runs: a worker killed mid-sleep leaves the message unacked, it is redelivered,
runs again (`started` grows) and completes once (`completed` stays 1). The bookkeeping is
one small JSON file per key under the test var dir, updated under an exclusive lock, so
the worker's pool processes and the test process agree on it without a production table.
"""

import fcntl
import json
import shutil
import time
from collections.abc import Callable
from pathlib import Path

from django.conf import settings

from config.celery import app

IMPORTS_ENV = "CANDOR_CELERY_IMPORTS"
MODULE = __name__


def _store() -> Path:
    return Path(settings.VAR_DIR) / "task-executions"


def _update(key: str, change: Callable[[dict], None]) -> dict:
    store = _store()
    store.mkdir(parents=True, exist_ok=True)
    with (store / f"{key}.json").open("a+") as f:
        fcntl.flock(f, fcntl.LOCK_EX)
        f.seek(0)
        raw = f.read()
        row = json.loads(raw) if raw else {"started": 0, "completed": 0}
        change(row)
        f.truncate(0)
        f.write(json.dumps(row))
        return row


def executions() -> list[tuple[str, int, int]]:
    """(key, started, completed) of every key recorded so far."""
    rows = []
    for path in sorted(_store().glob("*.json")) if _store().exists() else []:
        with path.open() as f:
            fcntl.flock(f, fcntl.LOCK_SH)
            raw = f.read()
        if raw:
            row = json.loads(raw)
            rows.append((path.stem, row["started"], row["completed"]))
    return rows


def executions_clear() -> None:
    shutil.rmtree(_store(), ignore_errors=True)


def _start(row: dict) -> None:
    row["started"] += 1


def _complete(row: dict) -> None:
    if row["completed"] == 0:
        row["completed"] += 1


@app.task(name="diagnostics.record", soft_time_limit=30, time_limit=60, ignore_result=True)
def record(key: str, seconds: float = 0.0) -> None:
    if _update(key, _start)["completed"] > 0:
        return  # already done: a redelivery must not do it twice
    time.sleep(min(max(seconds, 0.0), 20.0))
    _update(key, _complete)
