import pyotp
import pytest
from allauth.mfa.models import Authenticator
from allauth.mfa.recovery_codes.internal.auth import RecoveryCodes
from allauth.mfa.totp.internal.auth import TOTP
from django.urls import reverse

LOGIN = "/accounts/login/"
MFA_AUTH = "/accounts/2fa/authenticate/"


def login(client, username, password):
    return client.post(LOGIN, {"login": username, "password": password})


@pytest.fixture
def alice_with_totp(alice):
    secret = pyotp.random_base32()
    TOTP.activate(alice.user, secret)
    return alice, secret


def test_a_customer_enrols_totp_with_a_code_from_their_app(client, alice, password):
    login(client, "alice", password)
    assert client.get("/accounts/2fa/totp/activate/").url.startswith("/accounts/reauthenticate/")
    client.post("/accounts/reauthenticate/", {"password": password})
    page = client.get("/accounts/2fa/totp/activate/")
    assert page.status_code == 200
    secret = page.context["form"].secret
    assert secret.encode() in page.content  # shown to the customer for their app

    response = client.post("/accounts/2fa/totp/activate/", {"code": pyotp.TOTP(secret).now()})

    assert response.status_code == 302
    assert Authenticator.objects.filter(user=alice.user, type=Authenticator.Type.TOTP).exists()


def test_login_with_totp_asks_for_a_code_and_accepts_a_valid_one(client, alice_with_totp, password):
    alice, secret = alice_with_totp

    first = login(client, "alice", password)
    assert first.status_code == 302 and first.url == MFA_AUTH
    assert client.get(reverse("dashboard:home")).status_code == 302

    response = client.post(MFA_AUTH, {"code": pyotp.TOTP(secret).now()})

    assert response.status_code == 302
    assert client.get(reverse("dashboard:home")).status_code == 200


def test_a_totp_code_works_only_once(client, alice_with_totp, password):
    alice, secret = alice_with_totp
    code = pyotp.TOTP(secret).now()
    login(client, "alice", password)
    client.post(MFA_AUTH, {"code": code})
    client.post("/accounts/logout/")

    login(client, "alice", password)
    response = client.post(MFA_AUTH, {"code": code})

    assert response.status_code == 200
    assert response.context["form"].errors
    assert client.get(reverse("dashboard:home")).status_code == 302


def test_each_recovery_code_works_once(client, alice_with_totp, password):
    alice, _ = alice_with_totp
    codes = RecoveryCodes.activate(alice.user).get_unused_codes()

    login(client, "alice", password)
    assert client.post(MFA_AUTH, {"code": codes[0]}).status_code == 302
    assert client.get(reverse("dashboard:home")).status_code == 200
    client.post("/accounts/logout/")

    login(client, "alice", password)
    reused = client.post(MFA_AUTH, {"code": codes[0]})
    assert reused.status_code == 200
    assert client.get(reverse("dashboard:home")).status_code == 302

    assert client.post(MFA_AUTH, {"code": codes[1]}).status_code == 302
