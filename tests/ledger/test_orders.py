from datetime import timedelta
from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import timezone

from accounts.models import AuditEvent
from ledger.models import Event, Order, OrderLine
from tests.factories import (
    AddressFactory,
    BrandFactory,
    OrderFactory,
    OrderLineFactory,
    PaymentMethodFactory,
    ProductFactory,
)

ORDERS = reverse("dashboard:orders")


@pytest.fixture
def brand(db):
    return BrandFactory(name="Acme Outdoors")


@pytest.fixture
def past_order(alice, brand):
    order = OrderFactory(
        customer=alice,
        brand=brand,
        total=Decimal("35.00"),
        placed_at=timezone.now() - timedelta(days=30),
    )
    tent = ProductFactory(brand=brand, name="Trail Tent", price=Decimal("120.00"))
    stove = ProductFactory(brand=brand, name="Camp Stove", price=Decimal("40.50"))
    retired = ProductFactory(brand=brand, name="Old Lantern", price=Decimal("9.00"), active=False)
    OrderLineFactory(order=order, product=tent, quantity=1, unit_price="100.00")
    OrderLineFactory(order=order, product=stove, quantity=2, unit_price="35.00")
    OrderLineFactory(order=order, product=retired, quantity=1, unit_price="9.00")
    return order


def _orders_with_lines(customer, brand, count):
    products = [ProductFactory(brand=brand) for _ in range(3)]
    now = timezone.now()
    orders = Order.objects.bulk_create(
        Order(customer=customer, brand=brand, placed_at=now - timedelta(hours=i), source="observed")
        for i in range(count)
    )
    OrderLine.objects.bulk_create(
        OrderLine(order=o, product=p, quantity=1, unit_price=p.price)
        for o in orders
        for p in products
    )
    return orders


def test_it_lists_orders_with_their_lines_and_product_names(alice_client, past_order):
    page = alice_client.get(ORDERS).content.decode()

    assert "Trail Tent" in page
    assert "Camp Stove" in page
    assert "Acme Outdoors" in page
    assert "35.00" in page


def test_it_shows_only_the_signed_in_customers_orders(alice_client, alice, bob, brand):
    OrderLineFactory(order=OrderFactory(customer=bob, brand=brand), product__name="Bobs Secret")

    page = alice_client.get(ORDERS).content.decode()

    assert "Bobs Secret" not in page
    assert "No orders yet" in page


def test_it_pages_orders_twenty_at_a_time(alice_client, alice, brand):
    orders = _orders_with_lines(alice, brand, 45)

    first = alice_client.get(ORDERS)
    third = alice_client.get(ORDERS, {"page": 3})

    assert len(first.context["page_obj"].object_list) == 20
    assert [o.pk for o in third.context["page_obj"].object_list] == [o.pk for o in orders[40:]]
    assert alice_client.get(ORDERS, {"page": "nonsense"}).status_code == 200
    assert alice_client.get(ORDERS, {"page": "999"}).status_code == 200


def test_it_runs_a_bounded_number_of_queries_with_many_orders_and_events(
    alice_client, alice, brand, django_assert_max_num_queries
):
    _orders_with_lines(alice, brand, 50)
    product = ProductFactory(brand=brand)
    now = timezone.now()
    Event.objects.bulk_create(
        Event(customer=alice, brand=brand, product=product, kind="view", occurred_at=now)
        for _ in range(10_000)
    )

    alice_client.get(reverse("dashboard:home"))  # the session's first request records it

    # Same bound as every dashboard page; 5 of them are allauth's session tracking.
    with django_assert_max_num_queries(12):
        response = alice_client.get(ORDERS, {"page": 2})

    assert response.status_code == 200
    assert response.content.decode().count('<article class="order') == 20


def test_it_marks_an_order_as_a_gift_in_place_with_htmx(alice_client, alice, past_order):
    response = alice_client.post(
        reverse("dashboard:ledger_order_gift", args=[past_order.pk]),
        {"is_gift": "1"},
        HTTP_HX_REQUEST="true",
    )

    assert response.status_code == 200
    fragment = response.content.decode()
    assert fragment.lstrip().startswith(
        f'<article class="order is-gift" id="order-{past_order.pk}"'
    )
    assert "never shapes your recommendations" in fragment
    assert "<html" not in fragment
    past_order.refresh_from_db()
    assert past_order.is_gift
    assert AuditEvent.objects.filter(
        customer=alice, data_kind="order", reason="marked as gift"
    ).exists()


def test_it_toggles_a_gift_with_a_plain_post_and_redirects_back(alice_client, alice, brand):
    orders = _orders_with_lines(alice, brand, 25)
    target = orders[22]  # on page 2

    response = alice_client.post(
        reverse("dashboard:ledger_order_gift", args=[target.pk]), {"is_gift": "1", "page": "2"}
    )

    assert response.status_code == 302
    assert response.url == f"{ORDERS}?page=2#order-{target.pk}"
    target.refresh_from_db()
    assert target.is_gift
    page = alice_client.get(response.url).content.decode()
    assert "This was not a gift" in page

    alice_client.post(reverse("dashboard:ledger_order_gift", args=[target.pk]), {"is_gift": "0"})
    target.refresh_from_db()
    assert not target.is_gift


def test_it_ignores_a_malformed_gift_request(alice_client, alice, past_order):
    response = alice_client.post(
        reverse("dashboard:ledger_order_gift", args=[past_order.pk]), {"is_gift": "maybe"}
    )

    assert response.status_code == 302
    past_order.refresh_from_db()
    assert not past_order.is_gift


def test_it_reorders_in_one_click_with_the_default_address_and_card(
    alice_client, alice, past_order
):
    AddressFactory(customer=alice, is_default=False)
    address = AddressFactory(customer=alice, is_default=True)
    PaymentMethodFactory(customer=alice, is_default=False)
    card = PaymentMethodFactory(customer=alice, is_default=True)
    # The price moved since the first order: the reorder uses today's price.
    stove = past_order.lines.get(product__name="Camp Stove").product
    stove.price = Decimal("42.00")
    stove.save()

    response = alice_client.post(reverse("dashboard:ledger_order_reorder", args=[past_order.pk]))

    assert response.status_code == 302
    new = Order.objects.filter(customer=alice).exclude(pk=past_order.pk).get()
    assert new.brand == past_order.brand
    assert new.source == "provided"
    assert new.shipping_address == address
    assert new.payment_method == card
    assert new.payment_method.processor_token == card.processor_token
    lines = sorted((line.product.name, line.quantity, line.unit_price) for line in new.lines.all())
    assert lines == [("Camp Stove", 2, Decimal("42.00")), ("Trail Tent", 1, Decimal("120.00"))]
    assert new.total == Decimal("204.00")
    assert AuditEvent.objects.filter(
        customer=alice, data_kind="order", action="create", object_ref=str(new.pk)
    ).exists()
    page = alice_client.get(response.url).content.decode()
    assert f"order {new.pk} is placed" in page
    assert "no longer sold" in page


@pytest.mark.parametrize(
    ("with_address", "with_card", "message"),
    [
        (False, False, "Add a default address and a default payment method"),
        (True, False, "Choose a default payment method"),
        (False, True, "Choose a default delivery address"),
    ],
)
def test_it_reorders_nothing_without_defaults_and_says_why(
    alice_client, alice, past_order, with_address, with_card, message
):
    if with_address:
        AddressFactory(customer=alice, is_default=True)
    if with_card:
        PaymentMethodFactory(customer=alice, is_default=True)
    audits = AuditEvent.objects.count()

    response = alice_client.post(
        reverse("dashboard:ledger_order_reorder", args=[past_order.pk]), follow=True
    )

    assert message in response.content.decode()
    assert Order.objects.count() == 1
    assert AuditEvent.objects.count() == audits


def test_it_reorders_nothing_when_no_product_is_still_sold(alice_client, alice, brand):
    order = OrderFactory(customer=alice, brand=brand)
    OrderLineFactory(order=order, product=ProductFactory(brand=brand, active=False))
    AddressFactory(customer=alice, is_default=True)
    PaymentMethodFactory(customer=alice, is_default=True)

    response = alice_client.post(
        reverse("dashboard:ledger_order_reorder", args=[order.pk]), follow=True
    )

    assert "None of the products in this order are still available" in response.content.decode()
    assert Order.objects.count() == 1
