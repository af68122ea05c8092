"""Sessions after erasure (D8): none left that names the person, half-finished logins
included; expired sessions are purged by a periodic job."""

import json
from datetime import timedelta
from importlib import import_module

import pyotp
from allauth.mfa.totp.internal.auth import TOTP
from django.conf import settings
from django.contrib.auth import SESSION_KEY
from django.utils import timezone
from django.utils.http import int_to_base36

from accounts import services as account_services
from accounts import tasks
from accounts.sessions import account_of
from config.celery import app as celery_app
from tests.accounts.test_mfa import MFA_AUTH, login
from transparency import services

SessionStore = import_module(settings.SESSION_ENGINE).SessionStore


def _sessions() -> list[tuple[str, dict]]:
    """Every stored session: (raw row as text, decoded data), whatever the engine's table."""
    store = SessionStore()
    rows = store.get_model_class().objects.all()
    return [
        (json.dumps(list(row.__dict__.values())[1:], default=str), store.decode(row.session_data))
        for row in rows
    ]


def _naming(user) -> list[dict]:
    """Sessions whose data names `user`: signed in, or a login stashed half-way."""
    ids = {str(user.pk), int_to_base36(user.pk)}
    found = []
    for raw, data in _sessions():
        text = raw + json.dumps(data, default=str)
        stash = data.get("account_login") or {}
        if (
            str(data.get(SESSION_KEY)) in ids
            or str(stash.get("user_pk")) in ids
            or user.get_username() in text
        ):
            found.append(data)
    return found


def test_erasure_ends_a_login_abandoned_at_the_totp_step(client, alice, bob, password):
    TOTP.activate(alice.user, pyotp.random_base32())
    assert login(client, "alice", password).url == MFA_AUTH  # stopped here: no code sent
    bob_session = SessionStore()
    bob_session[SESSION_KEY] = str(bob.user.pk)
    bob_session.create()
    assert len(_naming(alice.user)) == 1  # the stash names her (the scan can find it)

    services.account_erase(customer=alice)

    assert _naming(alice.user) == []
    assert SessionStore().exists(bob_session.session_key)


def test_erasure_ends_every_signed_in_session_of_the_account(client, alice, password):
    for _ in range(2):
        login(client, "alice", password)
        client.cookies.clear()
    client.force_login(alice.user)
    assert len(_naming(alice.user)) == 3

    services.account_erase(customer=alice)

    assert _naming(alice.user) == []


def test_each_session_row_carries_the_account_its_data_names(alice):
    assert account_of({SESSION_KEY: str(alice.user.pk)}) == alice.user.pk
    assert account_of({"account_login": {"user_pk": int_to_base36(alice.user.pk)}}) == alice.user.pk
    assert account_of({"account_authentication_methods_user": str(alice.user.pk)}) == alice.user.pk
    assert account_of({"account_login": {"user_pk": None}, "_csrftoken": "x"}) is None
    assert account_of({SESSION_KEY: "not-an-id"}) is None


def test_the_periodic_job_purges_expired_sessions_only(db):
    def session(expires_in: timedelta) -> str:
        store = SessionStore()
        store.set_expiry(timezone.now() + expires_in)
        store["seen"] = True
        store.create()
        return store.session_key

    expired = [session(timedelta(seconds=-1)), session(timedelta(days=-30))]
    live = session(timedelta(hours=1))

    purged = tasks.sessions_purge.delay().get()

    assert purged == 2
    assert not any(SessionStore().exists(key) for key in expired)
    assert SessionStore().exists(live)
    assert account_services.sessions_purge_expired() == 0  # a second run is harmless


def test_the_purge_is_declared_in_the_beat_schedule():
    schedule = settings.CELERY_BEAT_SCHEDULE.values()
    entries = [e for e in schedule if e["task"] == "accounts.sessions_purge"]
    assert len(entries) == 1 and entries[0]["schedule"] <= 24 * 3600
    assert "accounts.sessions_purge" in celery_app.tasks
