"""A customer looks at My data, switches a kind off, deletes one event, reads the receipt
and downloads the JSON export (re-authenticating with the password) — in a real browser."""

import json

import pytest

from accounts.models import KindSetting
from accounts.services import customer_create
from ledger.models import Event
from tests.factories import PASSWORD, BrandFactory, EventFactory, ProductFactory, UserFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_a_customer_sees_switches_off_deletes_and_exports_her_data(
    live_server, page, artifacts, tmp_path
):
    customer = customer_create(user=UserFactory(username="maya"))
    brand = BrandFactory(slug="trail", name="Trail Co")
    boots = ProductFactory(brand=brand, name="Walking boots")
    tent = ProductFactory(brand=brand, name="Dome tent")
    doomed = EventFactory(customer=customer, brand=brand, product=boots)
    kept = EventFactory(customer=customer, brand=brand, product=tent)

    page.goto(f"{live_server.url}/accounts/login/")
    page.locator("#id_login").fill("maya")
    page.locator("#id_password").fill(PASSWORD)
    page.get_by_role("button", name="Sign In", exact=True).click()
    page.get_by_role("heading", name="Hello, maya").wait_for()

    page.get_by_role("navigation", name="Dashboard").get_by_role("link", name="My data").click()
    page.get_by_role("heading", name="My data", exact=True).wait_for()
    assert page.locator("#kind-event").get_by_text("2 items").is_visible()
    page.screenshot(path=str(artifacts / "my-data.png"), full_page=True)

    # Switch the whole kind off (htmx swaps the control in place).
    page.locator("#kind-toggle-event").click()
    page.locator("#kind-event").get_by_text("Kept, not used").wait_for()
    assert KindSetting.objects.get(customer=customer, data_kind="event").in_use is False

    # Delete one event through the impact preview.
    page.locator("#kind-event").get_by_role("link", name="Activity").click()
    page.locator(f"#item-{doomed.pk}").get_by_role(
        "link", name="Delete “Viewed Walking boots"
    ).click()
    page.get_by_role("heading", name="Delete this item?").wait_for()
    assert page.get_by_text("Walking boots").first.is_visible()
    page.locator("#confirm-delete").click()

    page.get_by_role("heading", name="Deletion receipt").wait_for()
    assert page.get_by_role("cell", name="Activity").is_visible()
    assert "Walking boots" not in page.content()
    page.screenshot(path=str(artifacts / "receipt.png"), full_page=True)
    assert list(Event.objects.filter(customer=customer)) == [kept]

    # Export: the password is asked for first, then the file downloads.
    page.goto(f"{live_server.url}/me/data/export/")
    page.locator("#export-json").click()
    page.locator("#id_password").fill(PASSWORD)
    with page.expect_download() as download_info:
        page.get_by_role("button", name="Confirm").click()
    target = tmp_path / "export.json"
    download_info.value.save_as(target)

    document = json.loads(target.read_text())
    events = next(k for k in document["kinds"] if k["kind"] == "event")
    assert [item["id"] for item in events["items"]] == [kept.pk]
    assert events["items"][0]["in_use"] is False  # the whole kind is switched off above
    assert events["source"] == "observed"
    account = next(k for k in document["kinds"] if k["kind"] == "account")
    assert account["items"][0]["fields"]["username"] == "maya"
