import pytest
from django.urls import reverse

SECTIONS = ["home", "profile", "saved", "orders", "activity", "recommendations", "data", "security"]


@pytest.mark.parametrize("section", SECTIONS)
def test_every_dashboard_page_requires_login(client, db, section):
    response = client.get(reverse(f"dashboard:{section}"))

    assert response.status_code == 302
    assert response.url.startswith(reverse("account_login"))


@pytest.mark.parametrize("section", SECTIONS)
def test_every_dashboard_page_renders_with_the_navigation(
    alice_client, section, django_assert_max_num_queries
):
    # The bound holds whatever the data size; 5 of these are allauth's session tracking.
    with django_assert_max_num_queries(16):
        response = alice_client.get(reverse(f"dashboard:{section}"))

    assert response.status_code == 200
    for label in (
        "Profile",
        "Saved details",
        "Orders",
        "Activity",
        "Recommendations",
        "My data",
        "Security",
    ):
        assert label.encode() in response.content


def test_every_section_is_built(alice_client):
    for section in SECTIONS:
        content = alice_client.get(reverse(f"dashboard:{section}")).content
        assert b"Not built yet" not in content, section


def test_the_root_sends_visitors_to_login_and_customers_to_the_dashboard(client, alice):
    assert client.get("/").url == reverse("account_login")
    client.force_login(alice.user)
    assert client.get("/").url == reverse("dashboard:home")


def test_static_files_are_served_without_a_cdn(alice_client):
    page = alice_client.get(reverse("dashboard:home")).content.decode()

    assert "/static/css/candor.css" in page
    assert "/static/vendor/htmx-2.0.11.min.js" in page
    assert "https://" not in page.split("<body")[0]


def test_staff_without_a_customer_record_get_a_clear_404_never_a_500(client, charlie):
    from transparency import urls

    client.force_login(charlie)
    for pattern in urls.urlpatterns:
        if pattern.pattern.converters:
            continue  # pages about one object; the IDOR sweep covers those
        response = client.get(reverse(f"dashboard:{pattern.name}"))
        assert response.status_code in (200, 404), (pattern.name, response.status_code)
        if response.status_code == 404:
            assert b"No customer record" in response.content, pattern.name
