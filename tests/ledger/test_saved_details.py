from datetime import time

import pytest
from django.test import override_settings
from django.urls import reverse

from accounts.models import AuditEvent
from ledger.models import Address, ContactPreference, PaymentMethod
from ledger.payments import CardToken
from tests.factories import (
    AddressFactory,
    BrandFactory,
    ContactPreferenceFactory,
    CustomerBrandFactory,
    OrderFactory,
    PaymentMethodFactory,
)

SAVED = reverse("dashboard:saved")
ADDRESS = {
    "label": "Work",
    "recipient": "Ada Lovelace",
    "line1": "12 Difference Engine Row",
    "line2": "",
    "city": "London",
    "postal_code": "EC1A 1BB",
    "country": "gb",
}


def _audits(customer, kind, **filters):
    return AuditEvent.objects.filter(customer=customer, data_kind=kind, **filters)


# --- access: anonymous, other customers' ids, staff without a customer record ----------


def _urls_for(customer):
    """Every ledger URL, with ids belonging to `customer`."""
    brand = BrandFactory()
    CustomerBrandFactory(customer=customer, brand=brand)
    address = AddressFactory(customer=customer)
    method = PaymentMethodFactory(customer=customer)
    order = OrderFactory(customer=customer)
    by_id = [
        reverse("dashboard:ledger_address_edit", args=[address.pk]),
        reverse("dashboard:ledger_address_delete", args=[address.pk]),
        reverse("dashboard:ledger_address_default", args=[address.pk]),
        reverse("dashboard:ledger_card_delete", args=[method.pk]),
        reverse("dashboard:ledger_card_default", args=[method.pk]),
        reverse("dashboard:ledger_contact_brand", args=[brand.pk]),
        reverse("dashboard:ledger_order_gift", args=[order.pk]),
        reverse("dashboard:ledger_order_reorder", args=[order.pk]),
    ]
    plain = [
        reverse(f"dashboard:{name}") for name in ("profile", "saved", "orders", "activity")
    ] + [
        reverse("dashboard:ledger_address_add"),
        reverse("dashboard:ledger_card_add"),
        reverse("dashboard:ledger_contact"),
    ]
    return plain, by_id


def test_it_sends_anonymous_visitors_to_login_from_every_url(client, bob):
    plain, by_id = _urls_for(bob)

    for url in plain + by_id:
        for method in (client.get, client.post):
            response = method(url)
            assert response.status_code == 302, url
            assert response.url.startswith(reverse("account_login")), url


def test_it_answers_404_to_another_customers_ids_on_get_and_post(alice_client, alice, bob):
    _, bobs = _urls_for(bob)
    before = {
        "addresses": list(Address.objects.filter(customer=bob).values()),
        "cards": list(PaymentMethod.objects.filter(customer=bob).values()),
        "prefs": ContactPreference.objects.count(),
    }
    payload = {**ADDRESS, "is_gift": "1", "cbrand-channel": "sms"}

    for url in bobs:
        assert alice_client.get(url).status_code == 404, url
        assert alice_client.post(url, payload).status_code == 404, url

    assert list(Address.objects.filter(customer=bob).values()) == before["addresses"]
    assert list(PaymentMethod.objects.filter(customer=bob).values()) == before["cards"]
    assert ContactPreference.objects.count() == before["prefs"]
    assert not AuditEvent.objects.filter(customer=bob).exclude(action="create").exists()
    assert not AuditEvent.objects.filter(customer=alice).exclude(data_kind="account").exists()


def test_it_gives_staff_without_a_customer_record_a_clear_404_everywhere(client, charlie, bob):
    plain, by_id = _urls_for(bob)
    client.force_login(charlie)

    for url in plain + by_id:
        for method in (client.get, client.post):
            response = method(url)
            assert response.status_code == 404, url
            assert b"No customer record" in response.content


def test_it_shows_only_the_signed_in_customers_saved_details(alice_client, alice, bob):
    AddressFactory(customer=alice, line1="1 Alice Lane")
    AddressFactory(customer=bob, line1="99 Bob Street")
    PaymentMethodFactory(customer=alice, last4="1111")
    PaymentMethodFactory(customer=bob, last4="9999")
    bobs_brand = BrandFactory(name="Bobs Only Brand")
    CustomerBrandFactory(customer=bob, brand=bobs_brand)

    page = alice_client.get(SAVED).content.decode()

    assert "1 Alice Lane" in page and "1111" in page
    assert "99 Bob Street" not in page
    assert "9999" not in page
    assert "Bobs Only Brand" not in page


# --- addresses --------------------------------------------------------------------------


def test_it_adds_an_address_and_the_first_one_becomes_default(alice_client, alice):
    response = alice_client.post(reverse("dashboard:ledger_address_add"), ADDRESS)

    assert response.status_code == 302
    address = Address.objects.get(customer=alice)
    assert address.line1 == "12 Difference Engine Row"
    assert address.country == "GB"
    assert address.source == "provided"
    assert address.is_default
    assert _audits(alice, "address", action="create").count() == 1
    assert "12 Difference Engine Row" in alice_client.get(SAVED).content.decode()


def test_it_shows_field_errors_for_a_bad_address(alice_client, alice):
    response = alice_client.post(
        reverse("dashboard:ledger_address_add"), {**ADDRESS, "line1": " ", "country": "G1"}
    )

    assert response.status_code == 200
    page = response.content.decode()
    assert "This field is required." in page
    assert "two-letter country code" in page
    assert not Address.objects.filter(customer=alice).exists()


def test_it_edits_an_address_and_writes_nothing_when_unchanged(alice_client, alice):
    address = AddressFactory(customer=alice, **{**ADDRESS, "country": "GB"})
    url = reverse("dashboard:ledger_address_edit", args=[address.pk])
    assert "Difference Engine Row" in alice_client.get(url).content.decode()

    alice_client.post(url, {**ADDRESS, "country": "GB"})
    assert _audits(alice, "address").count() == 0

    alice_client.post(url, {**ADDRESS, "city": "Cambridge"})
    address.refresh_from_db()
    assert address.city == "Cambridge"
    assert _audits(alice, "address", action="update").count() == 1


def test_it_switches_the_default_address_so_exactly_one_is_default(alice_client, alice):
    first = AddressFactory(customer=alice, is_default=True)
    second = AddressFactory(customer=alice)

    alice_client.post(reverse("dashboard:ledger_address_default", args=[second.pk]))

    assert list(Address.objects.filter(customer=alice, is_default=True)) == [second]
    first.refresh_from_db()
    assert not first.is_default
    assert _audits(alice, "address", reason="set default").count() == 1


def test_it_deletes_an_address_and_promotes_another_to_default(alice_client, alice):
    default = AddressFactory(customer=alice, is_default=True)
    other = AddressFactory(customer=alice)

    response = alice_client.post(reverse("dashboard:ledger_address_delete", args=[default.pk]))

    assert response.status_code == 302
    assert list(Address.objects.filter(customer=alice)) == [other]
    other.refresh_from_db()
    assert other.is_default
    assert _audits(alice, "address", action="delete").count() == 1


def test_it_refuses_get_on_post_only_urls(alice_client, alice):
    address = AddressFactory(customer=alice)

    response = alice_client.get(reverse("dashboard:ledger_address_delete", args=[address.pk]))

    assert response.status_code == 405
    assert Address.objects.filter(pk=address.pk).exists()


# --- payment methods --------------------------------------------------------------------


def test_it_adds_a_card_as_a_token_with_brand_last4_and_expiry(alice_client, alice):
    response = alice_client.post(
        reverse("dashboard:ledger_card_add"),
        {"number": "4242 4242 4242 4242", "exp_month": "12", "exp_year": "2040", "cvc": "123"},
    )

    assert response.status_code == 302
    method = PaymentMethod.objects.get(customer=alice)
    assert (method.card_brand, method.last4, method.exp_month, method.exp_year) == (
        "visa",
        "4242",
        12,
        2040,
    )
    assert method.processor == "local-test"
    assert method.processor_token.startswith("tok_")
    assert method.is_default
    assert _audits(alice, "payment_method", action="create").count() == 1


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"number": "4242 4242 4242 4241"}, "card number is not valid"),
        ({"number": "4242"}, "card number is not valid"),
        ({"number": "4242 4242 4242 4242 4242 4242"}, "card number is not valid"),
        ({"exp_year": "2001"}, "expired"),
        ({"exp_month": "13"}, "less than or equal to 12"),
        ({"cvc": "12"}, "3-digit security code"),
        ({"cvc": "12a"}, "3-digit security code"),
    ],
)
def test_it_rejects_a_bad_card_without_echoing_the_number(alice_client, alice, data, message):
    post = {"number": "4242 4242 4242 4242", "exp_month": "12", "exp_year": "2040"}
    post |= {"cvc": "123"} | data

    response = alice_client.post(reverse("dashboard:ledger_card_add"), post)

    assert response.status_code == 200
    page = response.content.decode()
    assert message in page
    digits = post["number"].replace(" ", "")
    assert digits not in page.replace(" ", "")
    assert 'name="number" value' not in page
    assert 'name="cvc" value' not in page
    assert not PaymentMethod.objects.filter(customer=alice).exists()


class FakeGateway:
    name = "fake-pay"

    def tokenize(self, number, exp_month, exp_year, cvc):
        return CardToken(
            token="tok_fake", brand="fakecard", last4="0000", exp_month=1, exp_year=2039
        )


def test_it_uses_the_gateway_named_by_the_setting(alice_client, alice):
    with override_settings(PAYMENT_GATEWAY="tests.ledger.test_saved_details.FakeGateway"):
        alice_client.post(
            reverse("dashboard:ledger_card_add"),
            {"number": "4242424242424242", "exp_month": "1", "exp_year": "2039", "cvc": "123"},
        )

    method = PaymentMethod.objects.get(customer=alice)
    assert (method.processor, method.processor_token, method.card_brand) == (
        "fake-pay",
        "tok_fake",
        "fakecard",
    )


def test_it_switches_the_default_card_and_deletes_one(alice_client, alice):
    first = PaymentMethodFactory(customer=alice, is_default=True)
    second = PaymentMethodFactory(customer=alice)

    alice_client.post(reverse("dashboard:ledger_card_default", args=[second.pk]))
    assert list(PaymentMethod.objects.filter(customer=alice, is_default=True)) == [second]

    alice_client.post(reverse("dashboard:ledger_card_delete", args=[second.pk]))
    assert list(PaymentMethod.objects.filter(customer=alice)) == [first]
    first.refresh_from_db()
    assert first.is_default
    assert _audits(alice, "payment_method").count() == 2


# --- contact preferences ----------------------------------------------------------------


def test_it_shows_a_preference_form_per_brand_the_customer_deals_with(alice_client, alice):
    CustomerBrandFactory(customer=alice, brand=BrandFactory(name="Acme Outdoors"))

    page = alice_client.get(SAVED).content.decode()

    assert "Every brand" in page
    assert "Acme Outdoors" in page


def test_it_saves_a_global_and_a_per_brand_preference(alice_client, alice):
    brand = BrandFactory()
    CustomerBrandFactory(customer=alice, brand=brand)

    alice_client.post(
        reverse("dashboard:ledger_contact"),
        {"call-channel": "post", "call-quiet_start": "", "call-quiet_end": ""},
    )
    alice_client.post(
        reverse("dashboard:ledger_contact_brand", args=[brand.pk]),
        {
            f"c{brand.pk}-channel": "sms",
            f"c{brand.pk}-quiet_start": "22:00",
            f"c{brand.pk}-quiet_end": "07:30",
            f"c{brand.pk}-best_hour_override": "18",
        },
    )

    everyone = ContactPreference.objects.get(customer=alice, brand=None)
    per_brand = ContactPreference.objects.get(customer=alice, brand=brand)
    assert everyone.channel == "post"
    assert (per_brand.channel, per_brand.quiet_start, per_brand.quiet_end) == (
        "sms",
        time(22, 0),
        time(7, 30),
    )
    assert per_brand.best_hour_override == 18
    assert _audits(alice, "contact_preference", action="create").count() == 2


def test_it_writes_nothing_when_the_preference_did_not_change(alice_client, alice):
    ContactPreferenceFactory(customer=alice, brand=None, channel="email")

    alice_client.post(reverse("dashboard:ledger_contact"), {"call-channel": "email"})

    assert _audits(alice, "contact_preference").count() == 0


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"call-best_hour_override": "24"}, "less than or equal to 23"),
        ({"call-quiet_start": "22:00"}, "both ends of your quiet hours"),
        ({"call-channel": "pigeon"}, "Select a valid choice"),
    ],
)
def test_it_rejects_a_bad_preference_with_a_clear_error(alice_client, alice, data, message):
    response = alice_client.post(
        reverse("dashboard:ledger_contact"), {"call-channel": "sms", **data}
    )

    assert response.status_code == 400
    assert message in response.content.decode()
    assert not ContactPreference.objects.filter(customer=alice).exists()


def test_it_refuses_a_preference_for_a_brand_the_customer_does_not_deal_with(alice_client, alice):
    stranger = BrandFactory()

    response = alice_client.post(
        reverse("dashboard:ledger_contact_brand", args=[stranger.pk]),
        {f"c{stranger.pk}-channel": "sms"},
    )

    assert response.status_code == 404
    assert not ContactPreference.objects.exists()
