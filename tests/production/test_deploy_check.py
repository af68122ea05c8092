"""H1: the production profile (DEBUG=0) passes Django's deployment checklist."""

import base64
import secrets
import subprocess
import sys

import pytest
from cryptography.fernet import Fernet

from tests.conftest import ROOT


def production_env(tmp_path, **overrides) -> dict:
    import os

    env = {
        key: value
        for key, value in os.environ.items()
        if key
        not in (
            "DATABASE_URL",
            "REDIS_URL",
            "SECRET_KEY",
            "FIELD_ENCRYPTION_KEYS",
            "CONSENT_RECEIPT_KEYS",
            "EMAIL_URL",
        )
    }
    env.update(
        DEBUG="0",
        SECRET_KEY=secrets.token_urlsafe(64),
        FIELD_ENCRYPTION_KEYS=Fernet.generate_key().decode(),
        CONSENT_RECEIPT_KEYS=base64.urlsafe_b64encode(secrets.token_bytes(32)).decode().rstrip("="),
        ALLOWED_HOSTS="candor.example.com",
        DATABASE_URL=f"sqlite:///{tmp_path / 'prod.sqlite3'}",
        REDIS_URL="redis://127.0.0.1:6379/15",
        EMAIL_URL="smtp+tls://mailer:not-a-secret@127.0.0.1:587",
        CANDOR_VAR_DIR=str(tmp_path / "var"),
        PYTHONUNBUFFERED="1",
    )
    env.pop("SECURE_SSL_REDIRECT", None)
    env.pop("ALLOW_CONSOLE_EMAIL", None)
    env.update(overrides)
    return env


def manage(*args, env: dict) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_it_passes_the_deploy_checklist_at_warning_level(tmp_path):
    result = manage("check", "--deploy", "--fail-level", "WARNING", env=production_env(tmp_path))

    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout


def test_it_refuses_to_start_without_its_secrets(tmp_path):
    env = production_env(tmp_path)
    del env["SECRET_KEY"]
    del env["FIELD_ENCRYPTION_KEYS"]
    del env["CONSENT_RECEIPT_KEYS"]

    result = manage("check", env=env)

    assert result.returncode != 0
    assert "ImproperlyConfigured" in result.stderr
    assert "SECRET_KEY" in result.stderr
    assert "FIELD_ENCRYPTION_KEYS" in result.stderr
    assert "CONSENT_RECEIPT_KEYS" in result.stderr


def test_it_refuses_to_start_without_redis(tmp_path):
    env = production_env(tmp_path)
    del env["REDIS_URL"]

    result = manage("check", env=env)

    assert result.returncode != 0
    assert "REDIS_URL" in result.stderr


def test_it_turns_on_hsts_secure_cookies_and_https_redirects(tmp_path):
    code = (
        "from django.conf import settings as s; "
        "print(s.SECURE_HSTS_SECONDS, s.SECURE_HSTS_INCLUDE_SUBDOMAINS, s.SECURE_HSTS_PRELOAD, "
        "s.SESSION_COOKIE_SECURE, s.CSRF_COOKIE_SECURE, s.SESSION_COOKIE_HTTPONLY, "
        "s.CSRF_COOKIE_HTTPONLY, s.SECURE_SSL_REDIRECT, s.X_FRAME_OPTIONS, "
        "s.STORAGES['staticfiles']['BACKEND'])"
    )

    result = manage("shell", "-c", code, env=production_env(tmp_path))

    assert result.returncode == 0, result.stderr
    assert result.stdout.strip().splitlines()[-1].split() == [
        "31536000",
        "True",
        "True",
        "True",
        "True",
        "True",
        "True",
        "True",
        "DENY",
        "whitenoise.storage.CompressedManifestStaticFilesStorage",
    ]


def _mail_backend(env: dict) -> subprocess.CompletedProcess:
    code = "from django.conf import settings as s; print(s.EMAIL_BACKEND)"
    return manage("shell", "-c", code, env=env)


@pytest.mark.parametrize("email_url", [None, "consolemail://"])
def test_it_refuses_the_console_mail_backend_unless_told_to(tmp_path, email_url):
    env = production_env(tmp_path)
    del env["EMAIL_URL"]
    if email_url:
        env["EMAIL_URL"] = email_url

    refused = _mail_backend(env)
    allowed = _mail_backend({**env, "ALLOW_CONSOLE_EMAIL": "1"})

    assert refused.returncode != 0
    assert "ImproperlyConfigured" in refused.stderr
    assert "EMAIL_URL" in refused.stderr and "ALLOW_CONSOLE_EMAIL=1" in refused.stderr
    assert allowed.returncode == 0, allowed.stderr
    assert allowed.stdout.strip().splitlines()[-1] == "accounts.mail.LogBackend"


def test_it_sends_mail_through_the_configured_server(tmp_path):
    result = _mail_backend(production_env(tmp_path))

    assert result.returncode == 0, result.stderr
    assert result.stdout.strip().splitlines()[-1] == "django.core.mail.backends.smtp.EmailBackend"
