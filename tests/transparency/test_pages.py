"""Pages around the dashboard: friendly error pages in the site's layout, the brands' docs on
their own layout, the compact navigation and the one script it loads."""

import pytest
from django.test import Client, override_settings
from django.urls import reverse

pytestmark = pytest.mark.django_db


def test_a_missing_page_answers_404_in_the_sites_layout_with_the_navigation(alice_client):
    response = alice_client.get("/me/no-such-page/")

    assert response.status_code == 404
    page = response.content.decode()
    assert "We could not find that page" in page
    assert 'aria-label="Dashboard"' in page  # signed in: the dashboard is one click away
    assert '<link rel="stylesheet" href="/static/css/candor.css">' in page


def test_a_form_without_its_csrf_token_gets_a_friendly_403(alice):
    client = Client(enforce_csrf_checks=True)
    client.force_login(alice.user)

    response = client.post(reverse("dashboard:data_purpose", args=["personalization"]))

    assert response.status_code == 403
    page = response.content.decode()
    assert "You cannot do that from here" in page
    assert "expired or came from another site" in page and "Nothing was changed" in page


@override_settings(ROOT_URLCONF="tests.e2e.urls_with_errors")
def test_a_server_error_answers_500_in_the_sites_layout_without_details():
    client = Client(raise_request_exception=False)

    response = client.get("/boom/")

    assert response.status_code == 500
    page = response.content.decode()
    assert "Something went wrong on our side" in page
    assert "deliberate failure" not in page and "Traceback" not in page


def test_the_widget_docs_are_for_brands_outside_the_customers_dashboard(alice_client):
    page = alice_client.get(reverse("widget_docs")).content.decode()

    assert 'aria-label="For brands"' in page and "API reference" in page
    assert 'aria-label="Dashboard"' not in page
    assert "Signed in as" not in page


def test_every_page_loads_one_small_script_of_ours_and_no_inline_code(alice_client):
    page = alice_client.get(reverse("dashboard:home")).content.decode()

    assert page.count("<script") == 2  # vendored htmx and static/js/candor.js
    assert '<script src="/static/js/candor.js" defer></script>' in page
    assert "style=" not in page and "onclick" not in page
