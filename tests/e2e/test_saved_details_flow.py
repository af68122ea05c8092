from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from ledger.models import Address, Order
from tests.factories import (
    AddressFactory,
    BrandFactory,
    OrderFactory,
    OrderLineFactory,
    PaymentMethodFactory,
    ProductFactory,
)

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_a_customer_adds_an_address_makes_it_default_and_reorders_in_one_click(
    live_server, page, alice, password, artifacts
):
    brand = BrandFactory(name="Acme Outdoors")
    old_home = AddressFactory(customer=alice, label="Old flat", is_default=True)
    card = PaymentMethodFactory(customer=alice, is_default=True, last4="4242")
    past = OrderFactory(customer=alice, brand=brand, placed_at=timezone.now() - timedelta(days=9))
    OrderLineFactory(
        order=past,
        product=ProductFactory(brand=brand, name="Trail Tent", price=Decimal("120.00")),
        quantity=2,
        unit_price="99.00",
    )

    page.goto(f"{live_server.url}/accounts/login/")
    page.locator("#id_login").fill("alice")
    page.locator("#id_password").fill(password)
    page.get_by_role("button", name="Sign In", exact=True).click()
    page.get_by_role("navigation", name="Dashboard").get_by_role(
        "link", name="Saved details"
    ).click()

    page.get_by_text("Add an address").click()
    page.locator("#id_label").fill("Cabin")
    page.locator("#id_recipient").fill("Alice Example")
    page.locator("#id_line1").fill("7 Forest Road")
    page.locator("#id_city").fill("Keswick")
    page.locator("#id_postal_code").fill("CA12 5AB")
    page.locator("#id_country").fill("gb")
    page.get_by_role("button", name="Save address").click()
    page.get_by_text("Address saved.").wait_for()

    page.get_by_role("button", name="Make default Cabin").click()
    page.get_by_text("Cabin is now your default address.").wait_for()
    # The label is encrypted (not searchable in SQL): found among alice's addresses.
    (cabin,) = [a for a in Address.objects.filter(customer=alice) if a.label == "Cabin"]
    assert list(Address.objects.filter(customer=alice, is_default=True)) == [cabin]
    old_home.refresh_from_db()
    assert not old_home.is_default

    page.get_by_role("navigation", name="Dashboard").get_by_role("link", name="Orders").click()
    page.get_by_role("button", name=f"Reorder order {past.pk}").click()
    new = Order.objects.exclude(pk=past.pk).get(customer=alice)
    page.get_by_text(f"Reordered: order {new.pk} is placed.").wait_for()
    page.screenshot(path=str(artifacts / "ledger-reorder.png"), full_page=True)

    assert page.locator(f"#order-{new.pk}").is_visible()
    assert "Trail Tent" in page.locator(f"#order-{new.pk}").inner_text()
    assert new.shipping_address == cabin
    assert new.payment_method == card
    assert new.total == Decimal("240.00")
    assert [(line.product.name, line.quantity) for line in new.lines.all()] == [("Trail Tent", 2)]

    page.get_by_role("button", name=f"This was a gift (order {past.pk})").click()
    page.locator(f"#order-{past.pk}").get_by_text("Gift — never shapes").wait_for()
    assert page.get_by_text(f"Reordered: order {new.pk} is placed.").is_visible()  # no reload
    past.refresh_from_db()
    assert past.is_gift
