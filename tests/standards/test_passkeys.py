"""Passkeys are on (allauth WebAuthn); staff still need TOTP for admin whatever else they
have. The browser flow is tests/e2e/test_passkey_flow.py."""

from allauth.mfa.models import Authenticator
from django.conf import settings
from django.urls import reverse


def test_passkeys_are_enabled_through_allauth():
    assert "webauthn" in settings.MFA_SUPPORTED_TYPES
    assert settings.MFA_PASSKEY_LOGIN_ENABLED is True


def test_the_security_page_offers_a_passkey(alice_client):
    page = alice_client.get(reverse("dashboard:security")).content.decode()

    assert reverse("mfa_add_webauthn") in page and "Add a passkey" in page


def test_the_login_page_offers_passkey_sign_in(client, db):
    page = client.get(reverse("account_login")).content.decode()

    assert 'id="passkey_login"' in page


def test_staff_with_only_a_passkey_still_cannot_reach_admin(client, charlie):
    charlie.is_superuser = True
    charlie.save()
    Authenticator.objects.create(
        user=charlie, type=Authenticator.Type.WEBAUTHN, data={"name": "Laptop"}
    )
    client.force_login(charlie)

    response = client.get(reverse("admin:index"))

    assert response.status_code == 302
    assert response.url.startswith(reverse("admin:login")) or "totp" in response.url
