"""My data: every registered kind, with provenance, purposes, retention and controls."""

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone
from django.utils.html import escape

from ledger.models import Event
from tests.factories import BrandFactory, EventFactory, PaymentMethodFactory, ProductFactory
from tests.transparency.test_erasure import SEEDS, TOTP_SECRET, seed_every_kind
from transparency import registry


@pytest.fixture
def brand(db):
    return BrandFactory(slug="acme", name="Acme")


def test_it_lists_every_registered_kind_with_source_purposes_and_count(alice_client, alice, brand):
    EventFactory.create_batch(3, customer=alice, brand=brand)

    page = alice_client.get(reverse("dashboard:data")).content.decode()

    for kind in registry.all_kinds():
        assert f'id="kind-{kind.name}"' in page
        assert kind.label in page
        for purpose in kind.purposes:
            assert escape(registry.PURPOSES[purpose]) in page
    assert "3 items" in page
    assert "Observed from your activity" in page


def test_it_filters_by_source(alice_client, alice):
    page = alice_client.get(reverse("dashboard:data"), {"source": "inferred"}).content.decode()

    assert 'id="kind-recommendation"' in page
    assert 'id="kind-event"' not in page


def test_it_filters_by_brand(alice_client, alice, brand):
    other = BrandFactory(slug="other", name="Other")
    EventFactory.create_batch(2, customer=alice, brand=brand)
    EventFactory(customer=alice, brand=other)

    page = alice_client.get(reverse("dashboard:data"), {"brand": other.pk}).content.decode()

    assert "1 item<" in page
    assert 'id="kind-account"' not in page  # not a brand's data
    assert "Delete everything Other holds about you" in page


def test_a_kind_page_shows_each_item_with_brand_collection_and_countdown(
    alice_client, alice, brand
):
    product = ProductFactory(brand=brand, name="Walking boots")
    EventFactory(
        customer=alice,
        brand=brand,
        product=product,
        occurred_at=timezone.now() - timedelta(days=100),
    )

    page = alice_client.get(reverse("dashboard:data_kind", args=["event"])).content.decode()

    assert "Viewed Walking boots" in page
    assert "Acme" in page
    assert "deleted in 265 days" in page
    assert "Switch off" in page and "Delete" in page


def test_payment_methods_show_only_card_brand_and_last_four(alice_client, alice):
    PaymentMethodFactory(customer=alice, processor_token="tok_do_not_show", last4="1881")

    page = alice_client.get(reverse("dashboard:data_kind", args=["payment_method"])).content

    assert b"1881" in page
    assert b"tok_do_not_show" not in page


def test_no_kind_page_shows_a_secret(alice_client, alice, brand):
    seed_every_kind(alice, brand, ProductFactory(brand=brand))
    secrets = [alice.user.password, TOTP_SECRET.format("ALICE"), "tok_secret_alice"]
    secrets.append("sessionkeyalice")

    for kind in registry.all_kinds():
        page = alice_client.get(reverse("dashboard:data_kind", args=[kind.name])).content.decode()
        for secret in secrets:
            assert secret not in page, kind.name


def test_kinds_without_a_per_item_switch_show_kind_controls_only(alice_client, alice, brand):
    SEEDS["inferred_interest"](alice, brand, None)
    SEEDS["consent"](alice, brand, None)

    consent = alice_client.get(reverse("dashboard:data_kind", args=["consent"])).content
    assert b"Switch off" not in consent

    interest = alice_client.get(reverse("dashboard:data_kind", args=["inferred_interest"]))
    assert b"Switch off all" in interest.content


def test_my_data_and_kind_pages_run_a_bounded_number_of_queries(
    alice_client, alice, brand, django_assert_max_num_queries
):
    product = ProductFactory(brand=brand)
    now = timezone.now()
    Event.objects.bulk_create(
        Event(customer=alice, brand=brand, kind="view", product=product, occurred_at=now)
        for _ in range(10_000)
    )
    alice_client.get(reverse("dashboard:home"))  # session bookkeeping out of the way

    with django_assert_max_num_queries(12):
        response = alice_client.get(reverse("dashboard:data"))
    assert b"10000 items" in response.content
    with django_assert_max_num_queries(12):
        response = alice_client.get(reverse("dashboard:data_kind", args=["event"]), {"page": 3})
    assert response.content.count(b'id="item-') == 50


def test_an_unknown_kind_is_not_found(alice_client):
    assert alice_client.get(reverse("dashboard:data_kind", args=["nope"])).status_code == 404
