import pytest

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_a_new_user_signs_up_sees_the_dashboard_signs_out_and_in_again(
    live_server, page, artifacts
):
    page.goto(f"{live_server.url}/")
    page.get_by_role("link", name="Sign up").click()
    page.locator("#id_username").fill("river")
    page.locator("#id_password1").fill("a-very-long-secret-19")
    page.locator("#id_password2").fill("a-very-long-secret-19")
    page.get_by_role("button", name="Sign Up").click()

    page.get_by_role("heading", name="Hello, river").wait_for()
    assert page.get_by_role("navigation", name="Dashboard").is_visible()
    page.screenshot(path=str(artifacts / "dashboard.png"), full_page=True)

    page.get_by_role("button", name="Sign out").click()
    page.wait_for_url("**/")
    page.goto(f"{live_server.url}/me/")
    assert "/accounts/login/" in page.url

    page.locator("#id_login").fill("river")
    page.locator("#id_password").fill("a-very-long-secret-19")
    page.get_by_role("button", name="Sign In", exact=True).click()
    page.get_by_role("heading", name="Hello, river").wait_for()
    assert page.url.endswith("/me/")


def test_bad_signup_input_shows_field_errors_in_the_browser(live_server, page):
    page.goto(f"{live_server.url}/accounts/signup/")
    page.locator("#id_username").fill("river")
    page.locator("#id_password1").fill("short")
    page.locator("#id_password2").fill("different")
    with page.expect_navigation():
        page.get_by_role("button", name="Sign Up").click()

    # The answer is a fresh page: wait for it before counting its errors.
    page.locator(".errorlist, ul.errorlist, [class*=error]").first.wait_for()
    assert page.locator(".errorlist, ul.errorlist, [class*=error]").count() > 0
    assert "/accounts/signup/" in page.url
