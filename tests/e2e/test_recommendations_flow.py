"""A person looks at why something is recommended and switches the reason off."""

import pytest
from django.urls import reverse

from recommendations import services
from recommendations.models import Recommendation
from tests.factories import PASSWORD
from tests.recommendations.conftest import alice_history, crowd, shop

SCENARIO = (shop, crowd, alice_history)  # pytest fixtures shared with tests/recommendations

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def _login(page, live_server, username):
    page.goto(live_server.url + reverse("account_login"))
    page.fill("#id_login", username)
    page.fill("#id_password", PASSWORD)
    page.get_by_role("button", name="Sign In", exact=True).click()
    page.wait_for_url(f"{live_server.url}{reverse('dashboard:home')}")


def _shown(customer) -> list[tuple[int, list[int]]]:
    """What the page shows: each product and the points cited for it."""
    return [
        (rec.product_id, [c["pk"] for c in rec.explanation])
        for rec in Recommendation.objects.filter(customer=customer).order_by("rank")
    ]


def test_the_why_is_shown_and_switching_its_point_off_changes_the_recommendations(
    page,
    live_server,
    shop,
    crowd,
    alice,
    alice_history,
    artifacts,
):
    brand, _ = shop
    services.train_brand(brand_id=brand.pk)
    before = _shown(alice)
    _login(page, live_server, "alice")

    page.goto(live_server.url + reverse("dashboard:recommendations"))
    first_card = page.locator(".rec-card").filter(has_text="Why:").first
    why = first_card.locator(".rec-why p").first.inner_text()
    assert why.startswith("Why: because you rated")
    cited = first_card.locator(".rec-cites li").first
    cited_label = cited.locator(".cite-label").inner_text()
    page.screenshot(path=str(artifacts / "recommendations-why.png"), full_page=True)

    # Tasks run eagerly here: the recompute happens right after the POST commits.
    cited.get_by_role("button", name="Stop using").click()
    page.wait_for_url(f"{live_server.url}{reverse('dashboard:recommendations')}")

    assert "switched off" in page.locator(".messages").inner_text()
    assert _shown(alice) != before
    assert cited_label not in page.locator("main").inner_text()
