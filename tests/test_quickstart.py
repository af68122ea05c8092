"""`make run` on a fresh machine: SQLite, the filesystem broker, web + worker + beat."""

import os
import signal
import socket
import subprocess
import sys
import urllib.request

import pytest

from tests.conftest import ROOT, wait_for

pytestmark = pytest.mark.slow


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def fetch(url: str) -> int:
    try:
        with urllib.request.urlopen(url, timeout=2) as response:  # noqa: S310  loopback only
            return response.status
    except OSError:
        return 0


def test_the_app_starts_like_make_run_answers_and_stops_cleanly(tmp_path):
    port, shop_port = free_port(), free_port()
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "REDIS_URL")}
    env.update(CANDOR_VAR_DIR=str(tmp_path / "var"), WEB_PORT=str(port), PYTHONUNBUFFERED="1")
    env.update(BRANDSITE_PORT=str(shop_port))
    log = (tmp_path / "run.log").open("w")
    proc = subprocess.Popen(
        ["bin/start"],
        cwd=ROOT,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    try:
        assert wait_for(
            lambda: fetch(f"http://127.0.0.1:{port}/accounts/login/") == 200, timeout=90
        )
        assert (tmp_path / "var" / "candor.sqlite3").exists()
        # The demo shop, configured by demo_data (its keys in var/demo-shop.json).
        assert wait_for(lambda: fetch(f"http://127.0.0.1:{shop_port}/") == 200, timeout=30)

        ping = subprocess.run(
            [sys.executable, "manage.py", "ping_worker", "--timeout", "60"],
            cwd=ROOT,
            env=env,
            capture_output=True,
            text=True,
            timeout=90,
        )
        assert ping.returncode == 0, ping.stdout + ping.stderr

        os.killpg(proc.pid, signal.SIGINT)
        assert proc.wait(timeout=30) is not None
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
        log.close()
    output = (tmp_path / "run.log").read_text()
    assert "demo / candor-demo-2026" in output
    assert "Traceback" not in output, output[-3000:]
