from django.conf import settings
from django.contrib.auth import get_user_model
from django.core import mail
from django.urls import reverse

LOGIN = "/accounts/login/"
LOGOUT = "/accounts/logout/"
User = get_user_model()


def login(client, username, password):
    return client.post(LOGIN, {"login": username, "password": password})


def test_it_logs_in_with_username_and_password(client, alice, password):
    response = login(client, "alice", password)

    assert response.status_code == 302
    assert response.url == reverse("dashboard:home")
    assert client.get(reverse("dashboard:home")).status_code == 200


def test_a_wrong_password_is_refused(client, alice):
    response = login(client, "alice", "not-the-password")

    assert response.status_code == 200
    assert response.context["form"].errors
    assert client.get(reverse("dashboard:home")).status_code == 302


def test_login_issues_a_new_session_key(client, alice, password):
    client.get(LOGIN)
    client.session.save()
    before = client.session.session_key

    login(client, "alice", password)

    assert client.session.session_key != before


def test_the_old_session_cookie_is_useless_after_logout(client, alice, password):
    login(client, "alice", password)
    old_cookie = client.cookies[settings.SESSION_COOKIE_NAME].value

    client.post(LOGOUT)
    client.cookies[settings.SESSION_COOKIE_NAME] = old_cookie

    assert client.get(reverse("dashboard:home")).status_code == 302


def test_the_old_session_is_useless_after_a_password_change(client, alice, password):
    login(client, "alice", password)
    old_cookie = client.cookies[settings.SESSION_COOKIE_NAME].value
    response = client.post(
        "/accounts/password/change/",
        {
            "oldpassword": password,
            "password1": "brand-new-secret-77",
            "password2": "brand-new-secret-77",
        },
    )
    assert response.status_code == 302

    client.cookies[settings.SESSION_COOKIE_NAME] = old_cookie
    assert client.get(reverse("dashboard:home")).status_code == 302


def test_the_attempt_after_the_failed_login_limit_is_refused_even_with_the_right_password(
    client, alice, password
):
    limit = settings.LOGIN_FAILED_LIMIT
    for _ in range(limit):
        assert login(client, "alice", "wrong-password").status_code == 200

    response = login(client, "alice", password)

    assert response.status_code in (200, 429)
    assert client.get(reverse("dashboard:home")).status_code == 302
    assert b"Too many" in response.content


def test_password_reset_sends_a_mail_with_a_working_link(client, db):
    user = User.objects.create_user("mailer", email="mailer@example.com", password="x-old-pass-123")
    from allauth.account.models import EmailAddress

    EmailAddress.objects.create(user=user, email=user.email, verified=True, primary=True)

    response = client.post("/accounts/password/reset/", {"email": "mailer@example.com"})

    assert response.status_code == 302
    assert len(mail.outbox) == 1
    assert "/accounts/password/reset/key/" in mail.outbox[0].body


def test_password_reset_answers_the_same_for_an_unknown_email(client, db):
    response = client.post("/accounts/password/reset/", {"email": "nobody@example.com"})

    assert response.status_code == 302
    assert response.url == "/accounts/password/reset/done/"
    assert all("/accounts/password/reset/key/" not in m.body for m in mail.outbox)


def test_the_dashboard_requires_login(client, db):
    response = client.get(reverse("dashboard:home"))

    assert response.status_code == 302
    assert response.url.startswith(reverse("account_login"))


def test_a_customer_sees_their_sessions_and_signs_out_the_others(alice, password):
    from django.test import Client

    laptop, phone = Client(HTTP_USER_AGENT="Laptop"), Client(HTTP_USER_AGENT="Phone")
    login(laptop, "alice", password)
    login(phone, "alice", password)

    listing = laptop.get("/accounts/sessions/")
    assert listing.context["session_count"] == 2

    laptop.post("/accounts/sessions/")

    assert phone.get(reverse("dashboard:home")).status_code == 302
    assert laptop.get(reverse("dashboard:home")).status_code == 200
