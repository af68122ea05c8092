"""H1: the production profile (DEBUG=0) passes Django's deployment checklist."""

import secrets
import subprocess
import sys

from cryptography.fernet import Fernet

from tests.conftest import ROOT


def production_env(tmp_path, **overrides) -> dict:
    import os

    env = {
        key: value
        for key, value in os.environ.items()
        if key not in ("DATABASE_URL", "REDIS_URL", "SECRET_KEY", "FIELD_ENCRYPTION_KEYS")
    }
    env.update(
        DEBUG="0",
        SECRET_KEY=secrets.token_urlsafe(64),
        FIELD_ENCRYPTION_KEYS=Fernet.generate_key().decode(),
        ALLOWED_HOSTS="candor.example.com",
        DATABASE_URL=f"sqlite:///{tmp_path / 'prod.sqlite3'}",
        REDIS_URL="redis://127.0.0.1:6379/15",
        CANDOR_VAR_DIR=str(tmp_path / "var"),
        PYTHONUNBUFFERED="1",
    )
    env.pop("SECURE_SSL_REDIRECT", None)
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

    result = manage("check", env=env)

    assert result.returncode != 0
    assert "ImproperlyConfigured" in result.stderr
    assert "SECRET_KEY" in result.stderr
    assert "FIELD_ENCRYPTION_KEYS" in result.stderr


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
