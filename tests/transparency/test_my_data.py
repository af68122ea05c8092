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
    held = page.split('id="kind-event"')[1].split("</li>")[0]
    for purpose in registry.get("event").purposes:
        assert escape(registry.PURPOSES[purpose]) in held
    assert "3 items" in held
    assert "Observed from your activity" in page


def test_purposes_come_first_and_kinds_holding_nothing_share_one_line(alice_client, alice):
    page = alice_client.get(reverse("dashboard:data")).content.decode()

    assert page.index('id="purposes"') < page.index('id="held"')
    empty = page.split('id="empty-kinds"')[1].split("</p>")[0]
    assert 'id="kind-address"' in empty and 'id="kind-event"' in empty
    assert 'id="kind-account"' not in empty  # she has an account: it is listed above
    for anchor in ("#purposes", "#held", "#empty-kinds", "#close"):
        assert f'href="{anchor}"' in page


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


def test_a_link_to_a_point_opens_its_kinds_page_where_it_is_and_highlights_it(
    alice_client, alice, brand
):
    product = ProductFactory(brand=brand)
    oldest = EventFactory(customer=alice, brand=brand, product=product)
    Event.objects.bulk_create(
        Event(customer=alice, brand=brand, kind="view", product=product, occurred_at=timezone.now())
        for _ in range(120)
    )

    response = alice_client.get(reverse("dashboard:data_point", args=["event", oldest.pk]))

    url = reverse("dashboard:data_kind", args=["event"])
    assert response.url == f"{url}?page=3&point={oldest.pk}#item-{oldest.pk}"
    page = alice_client.get(response.url).content.decode()
    row = page.split(f'id="item-{oldest.pk}"')[1].split("</tr>")[0]
    assert 'class="highlight" aria-current="true"' in row
    assert "The item you followed a link to" in row
    assert page.count('class="highlight"') == 1


def test_a_link_to_someone_elses_point_or_an_unknown_kind_is_not_found(alice_client, bob):
    bobs = EventFactory(customer=bob)

    assert (
        alice_client.get(reverse("dashboard:data_point", args=["event", bobs.pk])).status_code
        == 404
    )
    assert alice_client.get(reverse("dashboard:data_point", args=["nope", 1])).status_code == 404


def test_links_from_before_deep_links_existed_still_land_on_the_point(alice_client, alice):
    event = EventFactory(customer=alice)

    to_point = alice_client.get(reverse("dashboard:data"), {"kind": "event", "pk": event.pk})
    to_kind = alice_client.get(reverse("dashboard:data"), {"kind": "inferred_interest"})

    assert to_point.url == reverse("dashboard:data_point", args=["event", event.pk])
    assert to_kind.url == reverse("dashboard:data_kind", args=["inferred_interest"])


def test_every_control_is_named_after_the_thing_it_acts_on(alice_client, alice, brand):
    when = timezone.make_aware(timezone.datetime(2026, 11, 28, 10))
    product = ProductFactory(brand=brand, name="Trail Runner shoes")
    EventFactory(customer=alice, brand=brand, product=product, kind="view", occurred_at=when)

    page = alice_client.get(reverse("dashboard:data_kind", args=["event"])).content.decode()

    name = "“Viewed Trail Runner shoes, 28 Nov”"
    assert f'Stop using<span class="visually-hidden"> {name}</span>' in page
    assert f'Delete<span class="visually-hidden"> {name}</span>' in page
    main = page.split('<main id="content"')[1]
    assert "aria-label=" not in main.split("<nav")[0]  # visible label + hidden words only
