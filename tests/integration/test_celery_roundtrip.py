import subprocess
import sys

import pytest

from tests.conftest import ROOT, subprocess_env

pytestmark = pytest.mark.integration


def test_a_real_worker_answers_diagnostics_ping(celery_worker):
    result = subprocess.run(
        [sys.executable, "manage.py", "ping_worker", "--timeout", "60"],
        cwd=ROOT,
        env=subprocess_env(),
        capture_output=True,
        text=True,
        timeout=90,
    )

    assert result.returncode == 0, result.stdout + result.stderr
    assert "Worker answered" in result.stdout
