"""F4: a worker killed with SIGKILL mid-task loses nothing and repeats nothing.

50 tasks that each take a second and record their completion idempotently. While they
run, every pool process of the worker is killed with `kill -9` (three times); acks_late +
task_reject_on_worker_lost put the interrupted messages back. Then the worker is
restarted. Every task must complete exactly once; some must have started twice.
"""

import os
import signal
import time
from pathlib import Path

import pytest

from accounts import outbox
from config.celery import app as celery_app
from tests.conftest import start_worker, stop_worker, wait_for
from tests.integration.tasks import executions

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def empty_broker():
    """No message left over from an earlier run (this run's broker only: own var dir/DB)."""
    celery_app.control.purge()


TASKS = 50
KILLS = 3


def pool_processes(parent: int) -> list[int]:
    children = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        fields = stat.rsplit(")", 1)[1].split()
        if int(fields[1]) == parent:
            children.append(int(entry.name))
    return children


def running_now() -> int:
    return sum(1 for _, started, completed in executions() if started and not completed)


@pytest.fixture
def worker(tmp_path):
    procs = []

    def _start(name):
        proc = start_worker(tmp_path / "worker.log", name, concurrency=4)
        procs.append(proc)
        return proc

    yield _start
    for proc in procs:
        stop_worker(proc)


def test_every_task_completes_exactly_once_despite_kill_9(
    record_task, empty_broker, worker, tmp_path
):
    first = worker("crash-a")
    for n in range(TASKS):
        outbox.enqueue(task="diagnostics.record", kwargs={"key": f"crash-{n}", "seconds": 1.0})

    kills = 0
    for _ in range(KILLS):
        # Wait until tasks are mid-sleep, then kill every process running them.
        assert wait_for(lambda: running_now() > 0, timeout=60, interval=0.05)
        pool = pool_processes(first.pid)
        assert pool, "the worker has no pool processes"
        for pid in pool:
            os.kill(pid, signal.SIGKILL)
        kills += 1
        time.sleep(1.5)  # the worker notices, requeues, and forks new pool processes

    # Restart the worker: warm shutdown, then a fresh process picks up the rest.
    stop_worker(first)
    worker("crash-b")

    done = wait_for(
        lambda: sum(1 for _, _, completed in executions() if completed == 1) == TASKS,
        timeout=240,
        interval=0.5,
    )
    log = (tmp_path / "worker.log").read_text()
    assert done, log[-3000:]
    rows = executions()
    assert sorted(key for key, _, _ in rows) == sorted(f"crash-{n}" for n in range(TASKS))
    assert {completed for _, _, completed in rows} == {1}
    # The kills really interrupted tasks, which then ran again.
    assert kills == KILLS
    assert sum(started for _, started, _ in rows) > TASKS
    assert "SIGKILL" in log, log[-3000:]
