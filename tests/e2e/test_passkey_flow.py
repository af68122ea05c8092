"""Passkeys (allauth's WebAuthn): add one with Chromium's virtual authenticator (CDP
`WebAuthn` domain), sign out, sign in with it, no password typed."""

import pytest
from allauth.mfa.models import Authenticator

from accounts.services import customer_create
from tests.factories import UserFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PASSWORD = "a-very-long-secret-19"


def _virtual_authenticator(page):
    """A platform authenticator that holds resident keys and verifies the user at once."""
    cdp = page.context.new_cdp_session(page)
    cdp.send("WebAuthn.enable", {"enableUI": False})
    found = cdp.send(
        "WebAuthn.addVirtualAuthenticator",
        {
            "options": {
                "protocol": "ctap2",
                "transport": "internal",
                "hasResidentKey": True,
                "hasUserVerification": True,
                "isUserVerified": True,
                "automaticPresenceSimulation": True,
            }
        },
    )
    return cdp, found["authenticatorId"]


def test_a_customer_adds_a_passkey_signs_out_and_signs_in_with_it(live_server, page, artifacts):
    user = UserFactory(username="wren")
    user.set_password(PASSWORD)
    user.save()
    customer_create(user=user)
    cdp, authenticator = _virtual_authenticator(page)

    page.goto(f"{live_server.url}/accounts/login/")
    page.locator("#id_login").fill("wren")
    page.locator("#id_password").fill(PASSWORD)
    page.get_by_role("button", name="Sign In", exact=True).click()
    page.get_by_role("heading", name="Hello, wren").wait_for()

    page.goto(f"{live_server.url}/me/security/")
    page.get_by_role("link", name="Add a passkey").click()
    if "/reauthenticate/" in page.url:  # adding a key asks for the password again
        page.locator("#id_password").fill(PASSWORD)
        page.get_by_role("button", name="Confirm").click()
        page.wait_for_url("**/webauthn/add/")
    page.locator("input[name=name]").fill("Laptop")
    page.locator("input[name=passwordless]").check()
    page.locator("#mfa_webauthn_add").click()
    page.wait_for_url(lambda url: "/webauthn/add/" not in url)
    page.screenshot(path=str(artifacts / "passkey-added.png"), full_page=True)

    assert Authenticator.objects.filter(user=user, type=Authenticator.Type.WEBAUTHN).exists()
    credentials = cdp.send("WebAuthn.getCredentials", {"authenticatorId": authenticator})
    assert (
        len(credentials["credentials"]) == 1
        and credentials["credentials"][0]["isResidentCredential"]
    )

    page.goto(f"{live_server.url}/me/")
    page.get_by_role("button", name="Sign out").click()
    page.wait_for_url("**/")
    page.goto(f"{live_server.url}/accounts/login/")
    page.get_by_role("button", name="Sign in with a passkey").click()
    page.get_by_role("heading", name="Hello, wren").wait_for()
    assert page.url.endswith("/me/")
