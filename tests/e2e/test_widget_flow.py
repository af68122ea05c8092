"""The widget on a brand page served from another origin (demo_site/serve.py)."""

import json
import re
import socket
import subprocess
import sys
import urllib.request

import pytest
from playwright.sync_api import expect

from recommendations.widget import auth as widget_auth
from tests.conftest import ROOT, subprocess_env, wait_for
from tests.factories import PASSWORD, ProductFactory
from tests.widget import Shop

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

XSS_NAME = '<script>window.__xss=1</script><img src=x onerror="window.__xss=2">'


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _answers(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=1):
            return True
    except OSError:
        return False


@pytest.fixture
def brand_site(live_server, alice, tmp_path):
    """Start the demo brand site on its own port; yields a function making one."""
    widget_auth.widget_key_memo_clear()
    procs = []

    def start(shop: Shop, ref: str, *, api: str = "") -> str:
        port = shop_ports[shop.brand.slug]
        config = tmp_path / f"{shop.brand.slug}.json"
        config.write_text(
            json.dumps(
                {
                    "brand": shop.brand.slug,
                    "brand_name": shop.brand.name,
                    "token_secret": shop.secret,
                    "widget_key": shop.key,
                    "products": [],
                }
            )
        )
        args = [sys.executable, str(ROOT / "demo_site" / "serve.py"), "--port", str(port)]
        args += ["--candor", live_server.url, "--config", str(config), "--ref", ref]
        if api:
            args += ["--api", api]
        procs.append(subprocess.Popen(args, cwd=ROOT, env=subprocess_env()))
        url = f"http://127.0.0.1:{port}"
        assert wait_for(lambda: _answers(url + "/host.js"), timeout=20)
        return url

    shop_ports: dict[str, int] = {}
    start.ports = shop_ports
    yield start
    for proc in procs:
        proc.terminate()
        proc.wait(timeout=10)


def _shop(brand_site, alice, slug="shop-e2e") -> Shop:
    port = _free_port()
    brand_site.ports[slug] = port
    shop = Shop(slug, origin=f"http://127.0.0.1:{port}")
    shop.link(alice, "cust-alice")
    xss = ProductFactory(brand=shop.brand, name=XSS_NAME)
    shop.recommend(alice, [shop.products[0], xss])
    return shop


def test_it_renders_personal_cards_in_a_shadow_root_with_the_why(brand_site, alice, page):
    shop = _shop(brand_site, alice)
    site = brand_site(shop, "cust-alice")

    page.goto(site + "/")
    cards = page.locator(".candor-widget .cw-card")
    cards.first.wait_for()

    assert page.locator(".candor-widget .cw-title").inner_text() == "Picked for you"
    assert cards.count() == 2
    assert page.evaluate("document.querySelector('.candor-widget').shadowRoot !== null")
    assert page.evaluate("document.querySelectorAll('.cw-card').length") == 0  # not in light DOM
    # Markup in a product name is text, never parsed.
    assert XSS_NAME in cards.nth(1).locator(".cw-name").inner_text()
    assert page.evaluate("window.__xss") is None
    assert page.locator(".candor-widget img").count() == 0

    why = cards.first.locator(".cw-why-text")
    assert not why.is_visible()
    cards.first.get_by_role("button", name="Why?").click()
    assert why.is_visible()
    assert why.inner_text().startswith("Because you viewed")
    assert cards.first.get_by_role("button", name="Don't use this").is_visible()
    # For a token holder, "Manage my data" becomes a one-time connect link.
    manage = cards.first.get_by_role("link", name="Manage my data")
    expect(manage).to_have_attribute("href", re.compile(r"/link/\?token=eyJ"))
    # ... that ends on this card's reasons (its product, never an address): alice's record is
    # connected already, so she signs in and lands on the card in her Recommendations page.
    product = shop.products[0].pk
    expect(manage).to_have_attribute("href", re.compile(rf"&product={product}$"))
    page.goto(manage.get_attribute("href"))
    page.fill("#id_login", "alice")
    page.fill("#id_password", PASSWORD)
    page.get_by_role("button", name="Sign In", exact=True).click()
    page.wait_for_url(re.compile(rf"/me/recommendations/#rec-product-{product}$"))
    expect(page.locator(f"#rec-product-{product}")).to_be_in_viewport()


def test_it_renders_labelled_popular_cards_without_a_token(brand_site, alice, page):
    shop = _shop(brand_site, alice)
    site = brand_site(shop, "cust-alice")

    page.goto(site + "/?anonymous=1")
    cards = page.locator(".candor-widget .cw-card")
    cards.first.wait_for()

    assert page.locator(".candor-widget .cw-title").inner_text() == "Popular right now"
    assert cards.count() == len(shop.products) + 1
    assert page.locator(".candor-widget .cw-dont").count() == 0
    cards.first.get_by_role("button", name="Why?").click()
    assert "not based on you" in cards.first.locator(".cw-why-text").inner_text()


def test_the_host_page_keeps_working_when_the_api_is_down(brand_site, alice, page):
    shop = _shop(brand_site, alice)
    site = brand_site(shop, "cust-alice", api=f"http://127.0.0.1:{_free_port()}")
    warnings = []
    page.on("console", lambda m: warnings.append(m.text) if m.type == "warning" else None)

    with page.expect_console_message(lambda m: m.type == "warning"):
        page.goto(site + "/")
    page.wait_for_load_state("networkidle")
    button = page.locator("#host-counter")
    assert button.inner_text() == "Clicked 0 times"
    button.click()
    button.click()

    assert page.get_by_role("button", name="Clicked 2 times").is_visible()
    assert len(warnings) == 1
    assert warnings[0].startswith("Candor widget: nothing shown")
    assert page.locator(".candor-widget").count() == 0
