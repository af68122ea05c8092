"""What a person does on the dashboard, in Chromium: follow a reason to the data point behind
it, act on a page a recompute has made stale, switch with the keyboard alone (focus kept,
result announced), fix a form from its error summary, and all of it again without
JavaScript."""

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from ledger.models import Event, Order
from recommendations import services as rec_services
from recommendations.models import Recommendation
from tests.e2e.checks import DESKTOP, PHONE, axe_violations, with_axe
from tests.e2e.scenario import customer_with_history, sign_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def maya():
    return customer_with_history("maya")


def _page(browser, live_server, customer, *, viewport=DESKTOP, js=True):
    context = with_axe(browser.new_context(viewport=viewport, java_script_enabled=js))
    sign_in(context, live_server.url, customer.user)
    page = context.new_page()
    page.set_default_timeout(15_000)
    return page


def _in_view(locator) -> bool:
    return locator.evaluate(
        "e => { const r = e.getBoundingClientRect(); return r.top >= 0 && r.top < innerHeight }"
    )


def _cited(customer) -> tuple[str, int]:
    rec = Recommendation.objects.filter(customer=customer).exclude(explanation=[]).first()
    return rec.explanation[0]["kind"], rec.explanation[0]["pk"]


def _older_activity(customer, brand, n: int = 120) -> None:
    """Newer events push the cited ones to later pages of the kind's list."""
    product = Event.objects.filter(customer=customer).first().product
    Event.objects.bulk_create(
        Event(
            customer=customer,
            brand=brand,
            product=product,
            kind="view",
            source="observed",
            occurred_at=timezone.now() - timedelta(hours=1),
        )
        for _ in range(n)
    )


@pytest.mark.parametrize("viewport", [DESKTOP, PHONE], ids=["desktop", "phone"])
def test_a_reason_links_to_its_data_point_on_the_right_page_highlighted(
    browser, live_server, maya, artifacts, viewport
):
    kind, pk = _cited(maya.customer)
    _older_activity(maya.customer, maya.brand)
    page = _page(browser, live_server, maya.customer, viewport=viewport)

    page.goto(live_server.url + reverse("dashboard:recommendations"))
    link = page.locator(f'a[href="{reverse("dashboard:data_point", args=[kind, pk])}"]').first
    assert "See, switch off or delete" in link.inner_text()
    link.click()

    page.wait_for_url(f"**/me/data/kind/{kind}/?page=*&point={pk}#item-{pk}")
    row = page.locator(f"#item-{pk}")
    assert "highlight" in row.get_attribute("class")
    assert row.get_attribute("aria-current") == "true"
    assert "The item you followed a link to" in row.inner_text()
    assert _in_view(row)
    assert "page=1&" not in page.url  # it is further down the list, and the link found it
    assert row.get_by_role("button", name="Stop using").is_visible()
    assert axe_violations(page) == []
    page.screenshot(path=str(artifacts / f"deep-link-{viewport['width']}.png"), full_page=True)


def test_a_recommendations_page_left_open_across_recomputes_still_acts(browser, live_server, maya):
    page = _page(browser, live_server, maya.customer)
    page.goto(live_server.url + reverse("dashboard:recommendations"))
    card = page.locator(".rec-card").filter(has_text="Why:").first
    product = card.get_attribute("data-product")
    before = set(Recommendation.objects.filter(customer=maya.customer).values_list("pk", flat=True))

    rec_services.customer_recompute(customer_id=maya.customer.pk)  # new rows, new ids
    after = set(Recommendation.objects.filter(customer=maya.customer).values_list("pk", flat=True))
    assert before and after and not before & after
    card.get_by_role("button", name=f"Not interested in {product}").click()

    page.get_by_text(f"Noted: we will stop suggesting {product}.").wait_for()
    assert Event.objects.filter(
        customer=maya.customer, kind="not_interested", product__name=product
    ).exists()

    # And the reasons' switches, on a page older than the latest recompute.
    page.goto(live_server.url + reverse("dashboard:recommendations"))
    cite = page.locator(".rec-cites li").first
    label = cite.locator(".cite-label").inner_text()
    rec_services.customer_recompute(customer_id=maya.customer.pk)
    cite.get_by_role("button", name="Stop using").click()
    page.get_by_role("status").filter(has_text="switched off").first.wait_for()
    assert all(label not in text for text in page.locator(".rec-cites").all_inner_texts())


def _tab_to(page, element_id: str, limit: int = 80) -> None:
    for _ in range(limit):
        page.keyboard.press("Tab")
        if page.evaluate("document.activeElement.id") == element_id:
            return
    raise AssertionError(f"#{element_id} never took the keyboard focus")


def _contrast(rgb_a: str, rgb_b: str) -> float:
    def luminance(rgb: str) -> float:
        parts = [int(p) / 255 for p in rgb[rgb.index("(") + 1 : rgb.index(")")].split(",")[:3]]
        lin = [c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4 for c in parts]
        return 0.2126 * lin[0] + 0.7152 * lin[1] + 0.0722 * lin[2]

    high, low = sorted((luminance(rgb_a), luminance(rgb_b)), reverse=True)
    return (high + 0.05) / (low + 0.05)


def test_a_keyboard_user_switches_a_point_keeps_focus_and_hears_the_result(
    browser, live_server, maya
):
    newest = maya.events[0]
    page = _page(browser, live_server, maya.customer)
    page.goto(live_server.url + reverse("dashboard:data_kind", args=["event"]))
    button_id = f"point-toggle-event-{newest.pk}"

    _tab_to(page, button_id)
    ring = page.evaluate(
        "() => { const s = getComputedStyle(document.activeElement);"
        " return [s.outlineStyle, s.outlineWidth, s.outlineColor,"
        " getComputedStyle(document.documentElement).backgroundColor]; }"
    )
    assert ring[0] == "solid" and float(ring[1].removesuffix("px")) >= 2
    assert _contrast(ring[2], ring[3]) >= 3
    page.keyboard.press("Enter")

    page.locator(f"#{button_id}").filter(has_text="Use again").wait_for()
    assert page.evaluate("document.activeElement.id") == button_id
    assert "switched off" in page.locator("#announcer").inner_text()
    newest.refresh_from_db()
    assert newest.in_use is False

    page.keyboard.press("Space")
    page.locator(f"#{button_id}").filter(has_text="Stop using").wait_for()
    assert page.evaluate("document.activeElement.id") == button_id
    assert "in use again" in page.locator("#announcer").inner_text()

    # A purpose on My data and the gift mark on Orders behave the same.
    page.goto(live_server.url + reverse("dashboard:data"))
    _tab_to(page, "purpose-personalization")
    page.keyboard.press("Enter")
    page.locator("#purpose-personalization").filter(has_text="Allow").wait_for()
    assert page.evaluate("document.activeElement.id") == "purpose-personalization"
    assert "no longer allowed" in page.locator("#announcer").inner_text()

    order = Order.objects.get(customer=maya.customer)
    page.goto(live_server.url + reverse("dashboard:orders"))
    _tab_to(page, f"gift-{order.pk}")
    page.keyboard.press("Enter")
    page.locator(f"#gift-{order.pk}").filter(has_text="This was not a gift").wait_for()
    assert page.evaluate("document.activeElement.id") == f"gift-{order.pk}"


def test_form_errors_are_summarised_at_the_top_and_take_the_focus(browser, live_server, maya):
    page = _page(browser, live_server, maya.customer, viewport=PHONE)
    page.goto(live_server.url + reverse("dashboard:saved"))
    form = page.locator("form.contact-form").first
    form.get_by_label("Quiet hours from").fill("22:00")
    form.get_by_label("Best hour to reach you (0–23)").fill("30")
    form.get_by_role("button", name="Save").click()

    summary = page.locator("#error-summary")
    summary.wait_for()
    assert page.evaluate("document.activeElement.id") == "error-summary"
    assert "Best hour to reach you (0–23): Ensure this value is less than or equal to 23" in (
        summary.inner_text()
    )
    assert _in_view(summary)
    summary.get_by_role("link", name="Best hour to reach you").click()
    assert page.evaluate("document.activeElement.name").endswith("best_hour_override")
    assert axe_violations(page) == []


def test_without_javascript_every_flow_still_works(browser, live_server, maya, artifacts):
    kind, pk = _cited(maya.customer)
    page = _page(browser, live_server, maya.customer, js=False)

    # A reason's link lands on its point, highlighted (the fragment scrolls to it).
    page.goto(live_server.url + reverse("dashboard:recommendations"))
    page.locator(f'a[href="{reverse("dashboard:data_point", args=[kind, pk])}"]').first.click()
    row = page.locator(f"#item-{pk}")
    assert "highlight" in row.get_attribute("class")

    # Switch it off: a plain form post, back to the same page, the result said.
    row.get_by_role("button", name="Stop using").click()
    page.get_by_role("status").filter(has_text="switched off").wait_for()
    assert page.locator(f"#item-{pk}").get_by_role("button", name="Use again").is_visible()

    # A purpose, then "not interested" on a page a recompute has made stale.
    page.goto(live_server.url + reverse("dashboard:data"))
    page.locator("#purpose-third_party").click()
    page.get_by_role("status").filter(has_text="Third-party enrichment: allowed").wait_for()
    page.goto(live_server.url + reverse("dashboard:recommendations"))
    card = page.locator(".rec-card").first
    product = card.get_attribute("data-product")
    rec_services.customer_recompute(customer_id=maya.customer.pk)
    card.get_by_role("button", name=f"Not interested in {product}").click()
    page.get_by_role("status").filter(has_text=f"stop suggesting {product}").wait_for()

    # A form error: summarised at the top, linked to its field.
    page.goto(live_server.url + reverse("dashboard:saved"))
    form = page.locator("form.contact-form").first
    form.get_by_label("Quiet hours from").fill("22:00")
    form.get_by_role("button", name="Save").click()
    assert "Give both ends of your quiet hours" in page.locator("#error-summary").inner_text()

    # The gift mark, and the compact navigation, without a script.
    order = Order.objects.get(customer=maya.customer)
    page.goto(live_server.url + reverse("dashboard:orders"))
    page.locator(f"#gift-{order.pk}").click()
    page.locator(f"#gift-{order.pk}").filter(has_text="This was not a gift").wait_for()
    page.set_viewport_size(PHONE)
    nav = page.get_by_role("navigation", name="Dashboard")
    assert nav.bounding_box()["height"] < 80
    nav.get_by_role("link", name="Security").click()
    page.get_by_role("heading", name="Security").wait_for()
    page.screenshot(path=str(artifacts / "no-js-security-phone.png"), full_page=True)
