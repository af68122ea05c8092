"""The mortgage letter, done right: the brand posts "your address on file doesn't match",
the mail arrives in a real SMTP server, its button opens the address form with the field
focused, the customer saves, the brand's webhook receiver hears `data.updated` and reads
the new address through the API. Clicks from mail to saved: two (sign-in aside)."""

import json
import re

import httpx
import pytest

from accounts.models import CustomerBrand
from accounts.webhook_dispatch import webhooks_dispatch
from ledger.messages.dispatch import messages_dispatch
from tests.bridge import Brand, Receiver
from tests.e2e.checks import PHONE, axe_violations, overflow, with_axe
from tests.e2e.scenario import sign_in
from tests.factories import AddressFactory, PersonalFactFactory
from tests.messages.conftest import smtp  # noqa: F401, F811  (the SMTP server fixture)

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def receiver():
    server = Receiver()
    yield server
    server.stop()


def test_from_the_brands_message_to_the_fixed_address_in_two_clicks(
    live_server,
    browser,
    alice,
    smtp,  # noqa: F811
    receiver,
    settings,
):
    settings.CANDOR_BASE_URL = live_server.url
    settings.WEBHOOK_ALLOW_HTTP = settings.WEBHOOK_ALLOW_PRIVATE_NETWORKS = True
    shop = Brand()
    shop.endpoint(receiver.url, event_types=["data.updated"])
    CustomerBrand.objects.create(customer=alice, brand=shop.brand, external_ref="nw-alice")
    PersonalFactFactory(customer=alice, field="email", value="alice@example.org")
    AddressFactory(customer=alice, line1="1 Old Lane", is_default=True)
    api = httpx.Client(
        base_url=f"{live_server.url}/api/v1",
        headers={"Authorization": f"Bearer {shop.server_key}"},
        timeout=30,
    )

    # The brand's server posts the message.
    posted = api.post(
        "/messages",
        json={
            "items": [
                {
                    "external_id": "addr-check-1",
                    "customer_ref": "nw-alice",
                    "category": "service",
                    "subject": "Your address on file doesn't match",
                    "body": "The address on your last order differs from the one we hold.",
                    "action": {"label": "Check my address", "destination": "address"},
                }
            ]
        },
    )
    assert posted.status_code == 200, posted.text
    messages_dispatch()  # the periodic dispatcher's run (the post also asked for one)
    (mail,) = smtp.mails
    html = mail.get_body(("html",)).get_content()
    button = re.search(r'<a href="([^"]+)"[^>]*>Check my address</a>', html).group(1)

    context = with_axe(browser.new_context(viewport=PHONE))
    sign_in(context, live_server.url, alice.user)  # sign-in aside
    page = context.new_page()
    clicks = 0

    page.goto(button)  # click 1: the button in the mail
    clicks += 1
    assert page.evaluate("document.activeElement.name") == "line1"
    assert "focus-target" in page.evaluate("document.activeElement.className")
    page.keyboard.press("Control+A")
    page.keyboard.type("12 Corrected Road")
    page.get_by_role("button", name="Save address").click()  # click 2
    clicks += 1
    page.get_by_text("Address updated.").wait_for()
    assert clicks == 2

    webhooks_dispatch()
    (event,) = receiver.events()
    assert event["type"] == "data.updated"
    assert event["data"]["customer_ref"] == "nw-alice" and event["data"]["kind"] == "address"
    assert "Corrected" not in json.dumps(event)
    details = api.get("/customers/nw-alice").json()
    assert details["addresses"][0]["line1"] == "12 Corrected Road"

    # The Messages page says what happened and why, on a phone, accessibly.
    page.goto(f"{live_server.url}/me/messages/")
    page.get_by_text("Your address on file doesn't match").wait_for()
    page.get_by_text("By email, you have not chosen a channel").wait_for()
    assert axe_violations(page) == []
    assert overflow(page) == 0
    page.goto(f"{live_server.url}/me/access-log/")
    page.get_by_text("read your").first.wait_for()
    context.close()
    api.close()
