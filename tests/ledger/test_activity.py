from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from ledger.models import Event
from tests.factories import BrandFactory, EventFactory, ProductFactory

ACTIVITY = reverse("dashboard:activity")


@pytest.fixture
def brands(db):
    return BrandFactory(name="Acme Outdoors"), BrandFactory(name="Northwind Books")


def _events(customer, brand, count, kind="view", start=None):
    product = ProductFactory(brand=brand, name=f"{brand.name} item")
    start = start or timezone.now()
    return Event.objects.bulk_create(
        Event(
            customer=customer,
            brand=brand,
            product=product,
            kind=kind,
            source="observed",
            occurred_at=start - timedelta(minutes=i),
        )
        for i in range(count)
    )


def _pks(response):
    return [e.pk for e in response.context["page_obj"].object_list]


def test_it_shows_each_event_with_product_time_brand_source_and_use(alice_client, alice, brands):
    EventFactory(
        customer=alice,
        brand=brands[0],
        product__name="Trail Tent",
        kind="rating",
        value=4.0,
        in_use=False,
    )

    page = alice_client.get(ACTIVITY).content.decode()

    assert "Rated" in page
    assert "Trail Tent" in page
    assert "Acme Outdoors" in page
    assert "Observed from your activity" in page
    assert "Kept, not used" in page
    assert "<time datetime=" in page


def test_it_shows_only_the_signed_in_customers_events(alice_client, alice, bob, brands):
    EventFactory(customer=bob, brand=brands[1], product__name="Bobs Private Read")

    page = alice_client.get(ACTIVITY).content.decode()

    assert "Bobs Private Read" not in page
    assert "No activity" in page


def test_it_pages_fifty_events_newest_first(alice_client, alice, brands):
    events = _events(alice, brands[0], 120)

    first = alice_client.get(ACTIVITY)
    third = alice_client.get(ACTIVITY, {"page": 3})

    assert _pks(first) == [e.pk for e in events[:50]]
    assert _pks(third) == [e.pk for e in events[100:]]
    assert "120 events" in first.content.decode()


def test_it_filters_by_brand_and_by_type(alice_client, alice, brands):
    acme, northwind = brands
    acme_views = _events(alice, acme, 3, kind="view")
    acme_searches = _events(alice, acme, 2, kind="search")
    _events(alice, northwind, 4, kind="view")

    by_brand = alice_client.get(ACTIVITY, {"brand": acme.pk})
    by_both = alice_client.get(ACTIVITY, {"brand": acme.pk, "kind": "search"})
    by_kind = alice_client.get(ACTIVITY, {"kind": "view"})

    assert set(_pks(by_brand)) == {e.pk for e in acme_views + acme_searches}
    assert set(_pks(by_both)) == {e.pk for e in acme_searches}
    assert len(_pks(by_kind)) == 7
    assert "Show all" in by_both.content.decode()


def test_it_keeps_the_filter_in_the_page_links(alice_client, alice, brands):
    _events(alice, brands[0], 60, kind="click")

    page = alice_client.get(ACTIVITY, {"kind": "click"}).content.decode()

    assert "?kind=click&amp;page=2" in page


@pytest.mark.parametrize(
    "params",
    [
        {"brand": "abc"},
        {"brand": "99999999999999999999999"},
        {"brand": "-1"},
        {"kind": "bogus"},
        {"kind": "<script>"},
        {"page": "abc"},
        {"page": "0"},
        {"page": "100000"},
        {"brand": "", "kind": ""},
    ],
)
def test_it_ignores_bad_filter_values_and_shows_the_unfiltered_list(
    alice_client, alice, brands, params
):
    _events(alice, brands[0], 3, kind="view")
    _events(alice, brands[1], 2, kind="search")

    response = alice_client.get(ACTIVITY, params)

    assert response.status_code == 200
    assert response.context["page_obj"].paginator.count == 5


def test_it_ignores_a_brand_the_customer_has_no_activity_with(alice_client, alice, bob, brands):
    _events(alice, brands[0], 3)
    _events(bob, brands[1], 2)

    response = alice_client.get(ACTIVITY, {"brand": brands[1].pk})

    assert response.context["page_obj"].paginator.count == 3
    assert "Northwind Books" not in response.content.decode()


@pytest.mark.parametrize("params", [{}, {"kind": "view"}, {"page": "150"}])
def test_it_runs_a_bounded_number_of_queries_with_ten_thousand_events(
    alice_client, alice, brands, django_assert_max_num_queries, params
):
    now = timezone.now()
    _events(alice, brands[0], 5_000, kind="view", start=now)
    _events(alice, brands[1], 5_000, kind="click", start=now - timedelta(days=10))
    if params.get("kind"):
        params = {**params, "brand": brands[0].pk}

    alice_client.get(reverse("dashboard:home"))  # the session's first request records it

    # Same bound as every dashboard page; 5 of them are allauth's session tracking.
    with django_assert_max_num_queries(12):
        response = alice_client.get(ACTIVITY, params)

    assert response.status_code == 200
    assert response.content.decode().count("<tr>") == 51  # header + 50 rows
