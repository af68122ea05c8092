"""Shared fixtures: an owner (alice), a second customer (bob) and a staff user (charlie)."""

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from django.conf import settings
from django.core.cache import cache
from django.db import connection

from accounts.services import customer_create
from config.celery import app as celery_app
from recommendations.widget import memo as widget_memo
from tests.factories import PASSWORD, UserFactory

ROOT = Path(__file__).resolve().parent.parent


def _services_missing() -> dict[str, str]:
    """Markers whose service this run does not have: marker -> what would provide it."""
    missing = {}
    if not settings.CACHES["default"]["BACKEND"].endswith(".RedisCache"):
        missing["redis"] = "REDIS_URL"
    if connection.vendor != "postgresql":
        missing["postgres"] = "DATABASE_URL=postgres://..."
    return missing


def pytest_collection_modifyitems(config, items):
    """Tests marked `redis` test what only exists with the Redis cache (the widget memo's
    pub/sub); tests marked `postgres` test what only PostgreSQL does (row locks under real
    concurrency, triggers). CI configures both and must run them; without them (the
    embedded defaults of `make test` on a fresh machine) they are left out, and the summary
    says so."""
    left_out: dict[str, int] = {}
    for marker, needs_what in _services_missing().items():
        needs = [item for item in items if item.get_closest_marker(marker)]
        if not needs:
            continue
        if os.environ.get("CI"):
            raise pytest.UsageError(f"{len(needs)} tests need {marker}: set {needs_what} in CI")
        config.hook.pytest_deselected(items=needs)
        items[:] = [item for item in items if not item.get_closest_marker(marker)]
        left_out[marker] = len(needs)
    config._candor_left_out = left_out


def pytest_terminal_summary(terminalreporter, config):
    for marker, n in getattr(config, "_candor_left_out", {}).items():
        terminalreporter.write_line(
            f"{n} {marker}-only tests (marked `{marker}`) left out: no {marker} configured. "
            "CI runs them against the real service."
        )


@pytest.fixture(autouse=True)
def _isolated_cache():
    cache.clear()
    widget_memo.clear()
    yield
    cache.clear()
    widget_memo.clear()


@pytest.fixture(autouse=True)
def _eager_celery(request):
    """Unit tests run tasks in-process; integration tests talk to a real worker."""
    eager = request.node.get_closest_marker("integration") is None
    previous = celery_app.conf.task_always_eager
    celery_app.conf.task_always_eager = eager
    yield
    celery_app.conf.task_always_eager = previous


@pytest.fixture
def password():
    return PASSWORD


@pytest.fixture
def alice(db):
    return customer_create(user=UserFactory(username="alice"))


@pytest.fixture
def bob(db):
    return customer_create(user=UserFactory(username="bob"))


@pytest.fixture
def charlie(db):
    user = UserFactory(username="charlie")
    user.is_staff = True
    user.save()
    return user


@pytest.fixture
def staff_client(client, charlie):
    """charlie as a superuser with TOTP set up, signed in: admin lets him in."""
    import pyotp
    from allauth.mfa.totp.internal.auth import TOTP

    charlie.is_superuser = True
    charlie.save()
    TOTP.activate(charlie, pyotp.random_base32())
    client.force_login(charlie)
    return client


@pytest.fixture
def alice_client(client, alice):
    client.force_login(alice.user)
    return client


def database_url_for_subprocess() -> str:
    """The URL of the database the tests are using, for a process we start."""
    s = connection.settings_dict
    if s["ENGINE"].endswith("sqlite3"):
        return f"sqlite:///{s['NAME']}"
    auth = s["USER"] + (f":{s['PASSWORD']}" if s["PASSWORD"] else "")
    return f"postgres://{auth}@{s['HOST'] or '127.0.0.1'}:{s['PORT'] or 5432}/{s['NAME']}"


def subprocess_env(**extra) -> dict:
    env = dict(os.environ)
    env.update(DATABASE_URL=database_url_for_subprocess(), CACHE_PREFIX=settings.CACHE_PREFIX)
    env.update(CANDOR_VAR_DIR=str(settings.VAR_DIR), PYTHONUNBUFFERED="1")
    env.update(extra)
    return env


def start_worker(log_path: Path, name: str, *, concurrency: int = 1) -> subprocess.Popen:
    """A real Celery worker process on the configured broker, sharing the test database."""
    return subprocess.Popen(
        [sys.executable, "-m", "celery", "-A", "config", "worker", "-l", "info",
         "-Q", "realtime,training,maintenance", "-c", str(concurrency), "--without-mingle",
         "--without-gossip", "-n", f"{name}-{os.getpid()}@%h"],
        cwd=ROOT, env=subprocess_env(), stdout=log_path.open("a"), stderr=subprocess.STDOUT,
        start_new_session=True,
    )  # fmt: skip


def stop_worker(proc: subprocess.Popen) -> None:
    """Warm shutdown, then SIGKILL if it does not stop within 30 s."""
    if proc.poll() is None:
        os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(timeout=10)


@pytest.fixture
def celery_worker(transactional_db, tmp_path):
    """A real Celery worker process on the configured broker (Redis in CI)."""
    proc = start_worker(tmp_path / "worker.log", "test")
    yield proc
    stop_worker(proc)


def wait_for(predicate, *, timeout: float, interval: float = 0.1):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(interval)
    return predicate()
