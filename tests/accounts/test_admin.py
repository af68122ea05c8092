import pyotp
from allauth.mfa.totp.internal.auth import TOTP

LOGIN = "/accounts/login/"


def test_admin_login_redirects_to_the_allauth_flow(client, db):
    response = client.get("/admin/login/?next=/admin/")

    assert response.status_code == 302
    assert response.url.startswith(LOGIN)


def test_admin_index_sends_anonymous_visitors_to_login(client, db):
    response = client.get("/admin/", follow=True)

    assert response.redirect_chain[-1][0].startswith(LOGIN)


def test_a_customer_is_refused_by_admin(client, alice):
    client.force_login(alice.user)

    assert client.get("/admin/login/").status_code == 403


def test_staff_without_mfa_are_sent_to_set_it_up(client, charlie, password):
    client.post(LOGIN, {"login": "charlie", "password": password})

    response = client.get("/admin/", follow=True)

    # allauth asks for the password again before any MFA change.
    assert ("/accounts/2fa/totp/activate/", 302) in response.redirect_chain
    assert response.redirect_chain[-1][0].startswith("/accounts/reauthenticate/")


def test_staff_with_mfa_reach_admin_after_the_code(client, charlie, password):
    secret = pyotp.random_base32()
    TOTP.activate(charlie, secret)

    client.post(LOGIN, {"login": "charlie", "password": password})
    client.post("/accounts/2fa/authenticate/", {"code": pyotp.TOTP(secret).now()})

    assert client.get("/admin/").status_code == 200
