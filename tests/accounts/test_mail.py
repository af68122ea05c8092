"""Mail leaves no personal data in the output (D8): not the address, not the username."""

import io
import logging
import os
import subprocess
import sys

import pytest

from config.logging import PersonalDataFilter
from tests.accounts.test_signup import signup
from tests.conftest import ROOT

ADDRESS, USERNAME = "heisenberg@example.org", "walter-white-42"


def _development_mail_backend() -> str:
    """The backend a fresh checkout sends mail with (pytest itself swaps in locmem)."""
    env = {k: v for k, v in os.environ.items() if k not in ("EMAIL_URL", "DEBUG")}
    code = "from django.conf import settings as s; print(s.EMAIL_BACKEND)"
    result = subprocess.run(
        [sys.executable, "manage.py", "shell", "-c", code],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    return result.stdout.strip().splitlines()[-1]


@pytest.fixture
def web_log():
    """The root handler as settings.LOGGING builds it: a stream behind the masking filter."""
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.addFilter(PersonalDataFilter())
    root = logging.getLogger()
    root.addHandler(handler)
    yield stream
    root.removeHandler(handler)


def test_a_sign_up_mail_leaves_neither_address_nor_username_in_the_output(
    client, db, settings, capsys, web_log
):
    settings.EMAIL_BACKEND = _development_mail_backend()
    settings.DEBUG = True  # as `make run` has it

    response = signup(client, username=USERNAME, email=ADDRESS)

    captured = capsys.readouterr()
    output = captured.out + captured.err + web_log.getvalue()
    assert response.status_code == 302
    assert "mail not sent" in output  # the verification mail went through the backend
    assert "/accounts/confirm-email/" in output  # development: the link to follow
    assert ADDRESS not in output and "heisenberg" not in output
    assert USERNAME not in output


def test_outside_development_the_line_carries_no_link(client, db, settings, web_log):
    settings.EMAIL_BACKEND = "accounts.mail.LogBackend"
    settings.DEBUG = False

    signup(client, username=USERNAME, email=ADDRESS)

    assert "mail not sent" in web_log.getvalue()
    assert "http" not in web_log.getvalue()
