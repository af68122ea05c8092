"""The brand bridge end to end, in a real browser: the demo shop (demo_site/serve.py, its
own process and origin) pushes a purchase through the ingest API; its "see what we know"
link takes the visitor through sign-up to the connected dashboard; their choices come back
to the shop as verified webhooks; the shop confirms the erasure and the receipt says so."""

import json
import re
import socket
import subprocess
import sys
import urllib.request

import pytest

from accounts.keys import brand_token_secret_rotate, server_key_create, widget_key_create
from accounts.models import Customer, CustomerBrand
from accounts.webhooks import webhook_endpoint_create
from ledger.models import Order
from recommendations.widget import auth as widget_auth
from tests.conftest import ROOT, subprocess_env, wait_for
from tests.factories import BrandFactory, ProductFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PASSWORD = "a-long-shop-password-77"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _answers(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=1):  # noqa: S310  loopback only
            return True
    except OSError:
        return False


@pytest.fixture
def shop(live_server, tmp_path):
    """Northwind's shop with the keys and webhook endpoint demo_data would give it."""
    widget_auth.widget_key_memo_clear()
    port = _free_port()
    origin = f"http://127.0.0.1:{port}"
    brand = BrandFactory(slug="northwind", name="Northwind Outfitters")
    products = [
        ProductFactory(brand=brand, external_id="trail-runner", name="Trail Runner shoes"),
        ProductFactory(brand=brand, external_id="rain-shell", name="Rain Shell jacket"),
    ]
    _, server_key = server_key_create(brand=brand, label="shop")
    _, webhook_secret = webhook_endpoint_create(brand=brand, url=f"{origin}/webhooks")
    config = tmp_path / "shop.json"
    config.write_text(
        json.dumps(
            {
                "brand": brand.slug,
                "brand_name": brand.name,
                "server_key": server_key,
                "token_secret": brand_token_secret_rotate(brand=brand),
                "widget_key": widget_key_create(brand=brand, origins=[origin]).key,
                "webhook_secret": webhook_secret,
                "products": [
                    {"external_id": p.external_id, "name": p.name, "price": "119.00"}
                    for p in products
                ],
            }
        )
    )
    args = [sys.executable, str(ROOT / "demo_site" / "serve.py"), "--port", str(port)]
    args += ["--candor", live_server.url, "--config", str(config)]
    proc = subprocess.Popen(args, cwd=ROOT, env=subprocess_env())
    try:
        assert wait_for(lambda: _answers(origin + "/host.js"), timeout=20)
        yield origin
    finally:
        proc.terminate()
        proc.wait(timeout=10)


def _reload_until(page, url: str, text: str, timeout: float = 20) -> bool:
    def seen() -> bool:
        page.goto(url)
        return text in page.content()

    return wait_for(seen, timeout=timeout, interval=0.5)


def test_a_shopper_buys_connects_sees_the_order_chooses_and_erases(
    shop, live_server, page, artifacts
):
    clicks = 0
    # The shop: buy as a new shop customer (the shop pushes customer + order to Candor).
    page.goto(shop + "/")
    page.get_by_role("button", name="Buy Rain Shell jacket").click()
    status = page.locator("#status")
    status.get_by_text("Thank you! Order").wait_for()
    order_id = re.search(r"Order (order-[0-9a-f]+)", status.inner_text()).group(1)
    assert Order.objects.filter(external_id=order_id).exists()

    # "See what Northwind knows about you" -> Candor: sign up, with the brand named.
    page.get_by_role("link", name="See what Northwind Outfitters knows about you").click()
    page.get_by_text("wants to show you what it holds about you").wait_for()
    assert "Northwind Outfitters" in page.locator(".link-banner").inner_text()
    page.locator("#id_username").fill("shopper")
    page.locator("#id_password1").fill(PASSWORD)
    page.locator("#id_password2").fill(PASSWORD)
    page.get_by_role("button", name="Sign Up").click()
    clicks += 1

    # The confirmation names the brand and counts what it sent.
    page.get_by_role("heading", name="Connect Northwind Outfitters to your account?").wait_for()
    assert page.locator(".link-counts").get_by_text("× Orders").is_visible()
    page.screenshot(path=str(artifacts / "connect-confirm.png"), full_page=True)
    page.get_by_role("button", name="Connect Northwind Outfitters").click()
    clicks += 1
    page.get_by_text("Connected to Northwind Outfitters").wait_for()
    assert clicks <= 3  # sign up, connect: the dashboard is the third screen

    customer = Customer.objects.get(user__username="shopper")
    assert CustomerBrand.objects.get(customer=customer).brand.slug == "northwind"

    # The order is there.
    page.get_by_role("navigation", name="Dashboard").get_by_role("link", name="Orders").click()
    page.get_by_text(order_id).first.wait_for()

    # Switch personalization off; the shop hears it as a verified consent.changed.
    page.get_by_role("navigation", name="Dashboard").get_by_role("link", name="My data").click()
    page.locator("#purpose-personalization").click()
    page.get_by_text("Not allowed").first.wait_for()
    assert _reload_until(page, shop + "/webhooks", "consent.changed")
    row = page.locator("#webhooks tr", has_text="consent.changed").first
    assert "verified" in row.locator(".verified").inner_text()
    assert "NOT" not in row.locator(".verified").inner_text()
    assert '"allowed": false' in row.inner_text()
    assert page.locator("#webhooks tr", has_text="customer.connected").count() == 1
    page.screenshot(path=str(artifacts / "shop-webhooks.png"), full_page=True)

    # Erase the account; the shop confirms on its side and the receipt shows it.
    page.goto(f"{live_server.url}/me/data/account/delete/")
    page.locator("#confirm-delete").click()
    page.locator("#id_password").fill(PASSWORD)  # erasure asks for the password first
    page.get_by_role("button", name="Confirm").click()
    page.get_by_role("heading", name="Deletion receipt").wait_for()
    receipt_url = page.url
    assert _reload_until(page, receipt_url, "confirmed by the brand at")
    assert "Northwind" not in page.locator(".receipt-notices").inner_text()  # signed out now
    page.screenshot(path=str(artifacts / "receipt-confirmed.png"), full_page=True)
    assert not Customer.objects.filter(user__username="shopper").exists()
    assert _reload_until(page, shop + "/webhooks", "customer.erased")
