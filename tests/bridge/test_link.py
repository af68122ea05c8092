"""The connect link (B5): single use, short-lived, audience-bound; every refusal explained
on the same page, and a valid link at most three screens from the connected dashboard."""

import re
import time
from datetime import timedelta
from html import unescape

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from freezegun import freeze_time

from accounts.keys import tombstone_digest
from accounts.models import Customer, CustomerBrand, ErasureTombstone, LinkTokenUse
from ledger.models import Order
from tests.factories import PASSWORD, CustomerBrandFactory, UserFactory
from tests.widget import mint

OPEN = "/link/"
CONFIRM = "/link/confirm/"


def _open(client, token):
    return client.get(OPEN, {"token": token})


def _refusal(response) -> str:
    """The refusal page's heading: every refusal has the same page shape."""
    html = response.content.decode()
    assert 'class="lead"' in html and "Nothing was connected" in html
    return unescape(re.search(r"<h1>(.*?)</h1>", html, re.S).group(1))


def _sign_up(client, username: str):
    return client.post(
        reverse("account_signup") + f"?next={CONFIRM}",
        {"username": username, "password1": PASSWORD, "password2": PASSWORD, "next": CONFIRM},
    )


# --- refusals ---------------------------------------------------------------------------------


def test_a_tampered_link_is_refused_without_naming_the_brand(client, northwind):
    token = northwind.link_token("nw-1")
    head, body, sig = token.split(".")
    tampered = f"{head}.{body}.{sig[:-4]}AAAA"

    response = _open(client, tampered)

    assert response.status_code == 400
    assert _refusal(response) == "This link doesn't work"
    assert "Northwind" not in response.content.decode()
    assert not LinkTokenUse.objects.exists()


def test_a_link_signed_with_another_secret_is_refused_as_invalid(client, northwind):
    response = _open(client, northwind.link_token("nw-1", secret="not-the-brand-secret" * 3))

    assert _refusal(response) == "This link doesn't work"
    assert "Northwind" not in response.content.decode()


def test_an_expired_link_is_refused_without_naming_the_brand(client, northwind):
    past = int(time.time()) - 3600
    response = _open(client, northwind.link_token("nw-1", iat=past, exp=past + 600))

    assert response.status_code == 400
    assert _refusal(response) == "This link has expired"
    assert "Northwind" not in response.content.decode()


def test_a_widget_token_is_not_a_connect_link(client, northwind):
    widget_token = mint(northwind.secret, sub="nw-1", iss=northwind.brand.slug)

    response = _open(client, widget_token)

    assert _refusal(response) == "This is not a link to connect your data"
    assert "Northwind" not in response.content.decode()


@pytest.mark.parametrize(
    "claims",
    [
        {"jti": None},  # single use needs an id
        {"iat": None},
        {"exp": int(time.time()) + 3600},  # longer than 15 minutes
        {"iss": "someone-else"},
    ],
)
def test_links_missing_what_single_use_needs_or_living_too_long_are_refused(
    client, northwind, claims
):
    response = _open(client, northwind.link_token("nw-1", **claims))

    assert _refusal(response) == "This link doesn't work"
    assert not LinkTokenUse.objects.exists()


def test_a_replayed_link_is_refused_in_another_browser(client, northwind):
    northwind.shell("nw-1")
    token = northwind.link_token("nw-1")
    assert _open(client, token).status_code == 302

    other = Client()
    response = _open(other, token)

    assert response.status_code == 400
    assert _refusal(response) == "This link was already used"
    assert "candor_link" not in other.session
    assert LinkTokenUse.objects.count() == 1


def test_the_browser_that_opened_a_link_can_open_it_again_until_it_is_used(client, northwind):
    northwind.shell("nw-1")
    token = northwind.link_token("nw-1")

    assert _open(client, token)["Location"].startswith(reverse("account_signup"))
    assert _open(client, token)["Location"].startswith(reverse("account_signup"))


def test_a_reference_connected_to_another_account_is_refused(client, northwind, alice, bob):
    CustomerBrandFactory(customer=bob, brand=northwind.brand, external_ref="nw-bob")
    client.force_login(alice.user)

    response = client.get(_open(client, northwind.link_token("nw-bob"))["Location"])

    assert response.status_code == 409
    assert _refusal(response) == "This record is connected to another Candor account"
    assert CustomerBrand.objects.get(external_ref="nw-bob").customer == bob


def test_an_erased_reference_is_refused(client, northwind, alice):
    ErasureTombstone.objects.create(
        brand=northwind.brand, ref_digest=tombstone_digest(northwind.brand.pk, "nw-gone")
    )
    client.force_login(alice.user)

    response = client.get(_open(client, northwind.link_token("nw-gone"))["Location"])

    assert response.status_code == 409
    assert _refusal(response) == "There is nothing to connect"
    assert not CustomerBrand.objects.filter(customer=alice).exists()


def test_a_second_reference_of_a_brand_already_connected_is_refused(client, northwind, alice):
    CustomerBrandFactory(customer=alice, brand=northwind.brand, external_ref="nw-alice")
    shell = northwind.shell("nw-other")
    client.force_login(alice.user)

    response = client.get(_open(client, northwind.link_token("nw-other"))["Location"])

    assert _refusal(response) == "You are already connected to Northwind Outfitters"
    assert Customer.objects.filter(pk=shell.pk).exists()
    assert not Order.objects.filter(customer=alice).exists()


def test_a_refused_confirmation_changes_nothing_even_when_posted(client, northwind, alice, bob):
    CustomerBrandFactory(customer=bob, brand=northwind.brand, external_ref="nw-bob")
    client.force_login(alice.user)
    _open(client, northwind.link_token("nw-bob"))

    response = client.post(CONFIRM)

    assert response.status_code == 409
    assert CustomerBrand.objects.get(external_ref="nw-bob").customer == bob


def test_the_confirmation_is_refused_once_the_link_has_expired(client, northwind, alice):
    northwind.shell("nw-1")
    client.force_login(alice.user)
    _open(client, northwind.link_token("nw-1"))

    with freeze_time(timezone.now() + timedelta(minutes=11)):
        response = client.post(CONFIRM)

    assert _refusal(response) == "This link has expired"
    assert not CustomerBrand.objects.filter(customer=alice).exists()


def test_the_confirmation_page_without_a_link_is_refused(client, alice):
    client.force_login(alice.user)

    assert _refusal(client.get(CONFIRM)) == "This link doesn't work"


# --- the way through ---------------------------------------------------------------------------


def test_a_new_person_goes_from_link_to_connected_dashboard_in_three_screens(client, northwind):
    shell = northwind.shell("nw-new", orders=2, events=3)
    screens = []

    # Screen 1: sign up, with a banner naming the brand.
    signup = client.get(_open(client, northwind.link_token("nw-new"))["Location"])
    screens.append(signup)
    assert "<strong>Northwind Outfitters</strong> wants to show you" in signup.content.decode()
    # Screen 2: the confirmation, naming the brand and counting what it sent.
    confirm = client.get(_sign_up(client, "newperson")["Location"])
    screens.append(confirm)
    html = confirm.content.decode()
    assert "Connect Northwind Outfitters to your account?" in html
    assert "<strong>2</strong> × Orders" in html and "<strong>3</strong> × Activity" in html
    # Screen 3: the dashboard, with the brand's data.
    dashboard = client.get(client.post(CONFIRM)["Location"])
    screens.append(dashboard)

    assert len(screens) == 3
    assert "Connected to Northwind Outfitters" in dashboard.content.decode()
    me = Customer.objects.get(user__username="newperson")
    assert Order.objects.filter(customer=me).count() == 2
    assert CustomerBrand.objects.get(brand=northwind.brand, external_ref="nw-new").customer == me
    assert not Customer.objects.filter(public_id=shell.public_id).exists()
    assert "candor_link" not in client.session


def test_someone_with_an_account_signs_in_and_comes_back_to_confirm(client, northwind):
    northwind.shell("nw-1")
    UserFactory(username="returning")
    Customer.objects.create(user_id=UserFactory._meta.model.objects.get(username="returning").pk)
    signup = client.get(_open(client, northwind.link_token("nw-1"))["Location"])
    assert f"next={CONFIRM}".replace("/", "%2F") in signup.content.decode()

    login = client.post(
        reverse("account_login"),
        {"login": "returning", "password": PASSWORD, "next": CONFIRM},
    )

    assert login["Location"] == CONFIRM
    assert "Connect Northwind Outfitters" in client.get(CONFIRM).content.decode()


def test_a_link_to_a_reference_already_connected_asks_to_sign_in_not_up(client, northwind, alice):
    CustomerBrandFactory(customer=alice, brand=northwind.brand, external_ref="nw-alice")

    response = _open(client, northwind.link_token("nw-alice"))

    assert response["Location"] == f"{reverse('account_login')}?next={CONFIRM}"
    login = client.post(
        reverse("account_login"), {"login": "alice", "password": PASSWORD, "next": CONFIRM}
    )
    assert client.get(login["Location"])["Location"] == f"/me/data/?brand={northwind.brand.pk}"


def test_a_link_for_a_reference_the_brand_never_sent_connects_it_for_what_comes(
    client, northwind, alice
):
    client.force_login(alice.user)
    _open(client, northwind.link_token("nw-fresh"))
    assert "Nothing yet." in client.get(CONFIRM).content.decode()

    client.post(CONFIRM)

    link = CustomerBrand.objects.get(brand=northwind.brand, external_ref="nw-fresh")
    assert link.customer == alice


def test_a_link_to_what_is_already_yours_goes_to_your_data(client, northwind, alice):
    CustomerBrandFactory(customer=alice, brand=northwind.brand, external_ref="nw-alice")
    client.force_login(alice.user)
    token = northwind.link_token("nw-alice")

    response = _open(client, token)

    assert response["Location"] == f"/me/data/?brand={northwind.brand.pk}"
    assert _open(client, token)["Location"] == f"/me/data/?brand={northwind.brand.pk}"
    assert not LinkTokenUse.objects.exists()


def test_a_link_from_a_personal_card_ends_on_that_cards_reasons(client, northwind):
    northwind.shell("nw-new", orders=1)
    opened = client.get(OPEN, {"token": northwind.link_token("nw-new"), "product": "314"})
    client.get(opened["Location"])
    client.get(_sign_up(client, "newperson")["Location"])

    done = client.post(CONFIRM)

    assert done["Location"] == "/me/recommendations/#rec-product-314"
    assert "Connected to Northwind Outfitters" in client.get(done["Location"]).content.decode()


def test_a_card_link_to_what_is_already_yours_goes_straight_to_the_card(client, northwind, alice):
    CustomerBrandFactory(customer=alice, brand=northwind.brand, external_ref="nw-alice")
    client.force_login(alice.user)

    response = client.get(OPEN, {"token": northwind.link_token("nw-alice"), "product": "7"})

    assert response["Location"] == "/me/recommendations/#rec-product-7"


def test_a_card_link_that_asks_to_sign_in_still_ends_on_the_card(client, northwind, alice):
    CustomerBrandFactory(customer=alice, brand=northwind.brand, external_ref="nw-alice")
    client.get(OPEN, {"token": northwind.link_token("nw-alice"), "product": "7"})
    client.post(reverse("account_login"), {"login": "alice", "password": PASSWORD})

    assert client.get(CONFIRM)["Location"] == "/me/recommendations/#rec-product-7"


@pytest.mark.parametrize(
    "product",
    [
        "https://evil.example/",
        "//evil.example",
        "/accounts/logout/",
        "7#x",
        "7/../../admin",
        "-7",
        "0",
        "٧",  # an Arabic-Indic seven: a digit, but not an id
        "9" * 19,
        "",
        "7 ",
    ],
)
def test_anything_but_a_product_id_beside_the_token_is_ignored(client, northwind, alice, product):
    CustomerBrandFactory(customer=alice, brand=northwind.brand, external_ref="nw-alice")
    client.force_login(alice.user)

    response = client.get(OPEN, {"token": northwind.link_token("nw-alice"), "product": product})

    assert response["Location"] == f"/me/data/?brand={northwind.brand.pk}"


def test_link_pages_are_never_cached(client, northwind):
    response = _open(client, northwind.link_token("nw-1"))

    assert "no-store" in response["Cache-Control"]


def test_used_link_ids_are_forgotten_after_they_expire(northwind):
    from accounts.links import link_uses_purge

    LinkTokenUse.objects.create(
        brand=northwind.brand, jti="old", expires_at=timezone.now() - timedelta(minutes=1)
    )
    LinkTokenUse.objects.create(
        brand=northwind.brand, jti="live", expires_at=timezone.now() + timedelta(minutes=5)
    )

    assert link_uses_purge() == 1
    assert list(LinkTokenUse.objects.values_list("jti", flat=True)) == ["live"]
