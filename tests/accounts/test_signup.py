from django.contrib.auth import get_user_model
from django.core import mail
from django.core.cache import cache
from django.urls import reverse

from accounts.models import AuditEvent, Customer

User = get_user_model()
SIGNUP = "/accounts/signup/"


def signup(client, **fields):
    data = {"username": "newbie", "password1": "correct-horse-42", "password2": "correct-horse-42"}
    data.update(fields)
    return client.post(SIGNUP, data)


def test_it_signs_up_with_a_username_only(client, db):
    response = signup(client)

    assert response.status_code == 302
    assert response.url == reverse("dashboard:home")
    user = User.objects.get(username="newbie")
    assert user.email == ""
    customer = Customer.objects.get(user=user)
    assert (
        AuditEvent.objects.filter(customer=customer, action="create", data_kind="account").count()
        == 1
    )
    assert client.get(reverse("dashboard:home")).status_code == 200


def test_an_email_when_given_is_verified_before_sign_in(client, db):
    response = signup(client, email="newbie@example.com")

    assert response.url == reverse("account_email_verification_sent")
    assert client.get(reverse("dashboard:home")).status_code == 302

    assert len(mail.outbox) == 1
    assert "newbie@example.com" in mail.outbox[0].to
    assert "confirm" in mail.outbox[0].body.lower()


def test_invalid_signup_rerenders_with_field_errors_and_creates_nothing(client, db):
    response = signup(client, username="bad name!", password2="something-else-99")

    assert response.status_code == 200
    form = response.context["form"]
    assert "username" in form.errors
    assert "password2" in form.errors
    assert b"errorlist" in response.content or b"error" in response.content
    assert User.objects.count() == 0
    assert Customer.objects.count() == 0


def test_a_taken_username_is_a_field_error(client, alice):
    response = signup(client, username="alice")

    assert response.status_code == 200
    assert "username" in response.context["form"].errors
    assert Customer.objects.count() == 1


def test_signup_with_a_known_email_answers_like_an_unknown_one(client, db):
    signup(client, username="first", email="taken@example.com")
    client.logout()

    known = signup(client, username="second", email="taken@example.com")
    client.logout()
    unknown = signup(client, username="third", email="fresh@example.com")

    assert known.status_code == unknown.status_code == 302
    assert known.url == unknown.url


def test_the_verification_link_confirms_the_email_and_allows_sign_in(client, db):
    signup(client, email="newbie@example.com")
    link = next(w for w in mail.outbox[0].body.split() if "/accounts/confirm-email/" in w)

    client.post(link.split("testserver", 1)[-1])

    from allauth.account.models import EmailAddress

    assert EmailAddress.objects.get(email="newbie@example.com").verified
    response = client.post("/accounts/login/", {"login": "newbie", "password": "correct-horse-42"})
    assert response.url == reverse("dashboard:home")


def test_the_owner_of_a_taken_email_is_told_by_mail_not_the_stranger(client, db):
    signup(client, username="first", email="taken@example.com")
    client.logout()
    mail.outbox.clear()
    cache.clear()  # allauth rate-limits mails to one address; start a fresh window

    signup(client, username="second", email="taken@example.com")

    assert not User.objects.filter(username="second").exists()
    assert len(mail.outbox) == 1
    assert mail.outbox[0].to == ["taken@example.com"]
