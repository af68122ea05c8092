"""Every page, in Chromium at 1280 and 390 px: 0 axe-core violations (WCAG 2.1 A/AA and 24 px
targets), nothing wider than a phone, no CSP refusal, and a full-page screenshot of each in
test-artifacts/pages/ for review.

Dashboard pages come from the URL resolver (tests/production/urlwalk.py), filled with the ids
of a customer who has data in every registered kind, so a new page is walked the day it
lands; a parameter the walk does not know fails the test until it is taught. Then allauth's
pages (signed in and signed out), the statement, a receipt, the brands' widget docs and the
error pages.
"""

import pytest
from allauth.mfa.totp.internal.auth import TOTP, generate_totp_secret
from django.urls import reverse

from accounts.models import Purpose
from ledger.models import Message
from tests.e2e.checks import (
    WIDTHS,
    axe_violations,
    overflow,
    screenshot,
    slug,
    watch_csp,
    with_axe,
)
from tests.e2e.scenario import customer_in_every_kind, sign_in
from tests.production.urlwalk import all_routes
from transparency.models import DeletionReceipt
from transparency.registry import all_kinds

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

# Dashboard routes whose only parameter is an id, and the kind of row it names.
ID_ROUTES = {"address": "address", "card": "payment_method", "order": "order"}
# Downloads, not pages (they ask for the password first; that page is walked).
DOWNLOADS = {"dashboard:data_export_json", "dashboard:data_export_html"}
# Files and JSON answers, not pages: signed consent receipts, the chain check.
DOWNLOADS |= {"dashboard:consent_receipts", "dashboard:consent_receipt", "dashboard:consent_chain"}


def _one_row(customer, kind_name: str) -> int | None:
    kind = next(k for k in all_kinds() if k.name == kind_name)
    return kind.rows_for(customer).order_by("-pk").values_list("pk", flat=True).first()


def _fillings(route, scenario) -> list[dict]:
    names = [name for name, _ in route.params]
    customer = scenario.customer
    if names == ["kind"]:
        return [{"kind": k.name} for k in all_kinds()]
    if names == ["kind", "pk"]:
        rows = [(k.name, _one_row(customer, k.name)) for k in all_kinds()]
        return [{"kind": name, "pk": pk} for name, pk in rows if pk is not None]
    if names == ["pk"]:
        kind = next(kind for word, kind in ID_ROUTES.items() if word in route.name)
        return [{"pk": _one_row(customer, kind)}]
    if names == ["brand_id"]:
        return [{"brand_id": scenario.brand.pk}]
    if names == ["product_id"]:
        return [{"product_id": scenario.events[0].product_id}]
    if names == ["purpose"]:
        return [{"purpose": p} for p in Purpose.values]
    if names == ["public_id"]:  # a message's button, from the Messages page
        messages = Message.objects.filter(customer=customer).values_list("public_id", flat=True)
        return [{"public_id": public_id} for public_id in messages[:1]]
    raise AssertionError(f"teach the page walk the parameters of {route.name}: {names}")


def dashboard_paths(scenario) -> list[str]:
    paths = []
    for route in all_routes():
        if not route.template.startswith("/me/") or route.name in DOWNLOADS:
            continue
        if not route.params:
            paths.append(route.template)
            continue
        paths += [route.fill(filling) for filling in _fillings(route, scenario)]
    return paths


def account_paths() -> list[str]:
    return [
        r.template for r in all_routes() if r.template.startswith("/accounts/") and not r.params
    ]


class Walk:
    """Visits pages at one width and collects every problem, so one run reports them all."""

    def __init__(self, page, base_url: str, artifacts, width_name: str):
        self.page, self.base_url, self.width_name = page, base_url, width_name
        self.folder = artifacts / "pages"
        self.seen: set[str] = set()
        self.problems: list[str] = []
        self.csp = watch_csp(page)

    def visit(self, path: str, *, expect_status: int | None = None, name: str = "") -> None:
        # Actions answer GET with an empty 405, which the browser refuses to show: ask first.
        if self.page.request.get(self.base_url + path, max_redirects=0).status == 405:
            return
        response = self.page.goto(self.base_url + path)
        self.check(path, response.status if response else 0, expect_status, name)

    def check(self, path: str, status: int, expect_status: int | None, name: str = "") -> None:
        if status == 405:
            return  # an action (POST only), not a page
        landed = self.page.url.removeprefix(self.base_url)
        # A deep link lands on its kind's page (already walked) with one row highlighted.
        page_itself = landed.split("?")[0].split("#")[0]
        if page_itself in self.seen:
            return
        self.seen.add(page_itself)
        where = f"{path} -> {landed} at {self.width_name}"
        if expect_status is not None and status != expect_status:
            self.problems.append(f"{where}: answered {status}, expected {expect_status}")
        elif expect_status is None and status >= 400:
            self.problems.append(f"{where}: answered {status}")
        self.problems += [f"{where}: {v}" for v in axe_violations(self.page)]
        if self.width_name == "phone" and (extra := overflow(self.page)):
            self.problems.append(f"{where}: {extra} px wider than the screen")
        self.problems += [f"{where}: {refusal}" for refusal in self.csp]
        self.csp.clear()
        screenshot(self.page, self.folder, name or slug(landed), self.width_name)


@pytest.fixture
def scenario(charlie):
    found = customer_in_every_kind("maya", staff=charlie)
    TOTP.activate(found.customer.user, generate_totp_secret())  # its pages exist only then
    return found


def _context(browser, width_name: str, **options):
    return with_axe(browser.new_context(viewport=WIDTHS[width_name], **options))


@pytest.mark.parametrize("width_name", WIDTHS)
def test_every_dashboard_page_passes_axe_and_fits_a_phone(
    browser, live_server, scenario, artifacts, width_name
):
    context = _context(browser, width_name)
    sign_in(context, live_server.url, scenario.customer.user)
    walk = Walk(context.new_page(), live_server.url, artifacts, width_name)
    paths = dashboard_paths(scenario)

    for path in paths:
        walk.visit(path)

    context.close()
    assert len(walk.seen) > 50, sorted(walk.seen)  # the walk reached the kinds' pages
    assert walk.problems == [], "\n".join(walk.problems)


@pytest.mark.parametrize("width_name", WIDTHS)
def test_account_public_docs_and_error_pages_pass_axe_and_fit_a_phone(
    browser, live_server, scenario, artifacts, width_name, settings
):
    receipt = DeletionReceipt.objects.filter(customer=scenario.customer).first()
    signed_out = _context(browser, width_name)
    walk = Walk(signed_out.new_page(), live_server.url, artifacts, width_name)
    for path in account_paths():
        walk.visit(path)
    walk.visit(reverse("transparency_statement"))
    walk.visit(reverse("receipt", args=[receipt.public_id]), name="receipt")
    walk.visit(reverse("widget_docs"))
    walk.visit("/no-such-page/", expect_status=404, name="error-404-signed-out")
    signed_out.close()

    signed_in = _context(browser, width_name)
    sign_in(signed_in, live_server.url, scenario.customer.user)
    walk.page = signed_in.new_page()
    walk.csp = watch_csp(walk.page)
    for path in account_paths():
        walk.visit(path)
    walk.visit("/me/no-such-page/", expect_status=404, name="error-404")
    # A form sent without its CSRF token: the friendly 403.
    walk.page.goto(live_server.url + reverse("dashboard:data"))
    with walk.page.expect_navigation():
        walk.page.evaluate(
            """() => { const f = document.createElement('form'); f.method = 'post';
            f.action = '/me/data/purpose/personalization/'; document.body.append(f);
            f.submit(); }"""
        )
    walk.check("/me/data/purpose/personalization/ (no CSRF token)", 403, 403, name="error-403")
    settings.ROOT_URLCONF = "tests.e2e.urls_with_errors"
    walk.visit("/boom/", expect_status=500, name="error-500")
    signed_in.close()

    assert len(walk.seen) > 15, sorted(walk.seen)
    assert walk.problems == [], "\n".join(walk.problems)


def test_the_checks_see_what_they_look_for(browser):
    """Control: on a page with known faults the same checks report them, so an empty list
    above means the pages are clean, not that nothing ran."""
    context = with_axe(browser.new_context(viewport=WIDTHS["phone"]))
    page = context.new_page()
    page.set_content(
        '<html><body><img src="x.png"><button></button><a href="#">'
        '<span style="color:#eee">faint</span></a><p style="width:900px">wide</p></body></html>'
    )

    found = " ".join(axe_violations(page))
    wider = overflow(page)
    context.close()

    for rule in ("image-alt", "button-name", "html-has-lang", "color-contrast"):
        assert rule in found
    assert wider > 400
