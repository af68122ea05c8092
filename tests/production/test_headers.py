"""H1/H2: every route answers with CSP (no inline script), X-Frame-Options DENY, and
`Cache-Control: no-store` wherever the page is personal.

Routes come from the URL resolver; path parameters are filled with alice's own ids, so
most answers are the real page (others are redirects or 404s, which must carry the
headers too).
"""

import pytest
from django.urls import reverse

from tests.factories import PASSWORD
from tests.production.seeds import identifiers, seed_every_kind
from tests.production.test_idor_sweep import vocabulary
from tests.production.urlwalk import Route, all_routes

pytestmark = pytest.mark.django_db

# A widget iframe view (if one is added) may be framed by brand sites: list it here.
XFO_EXEMPT: set[str] = set()


def csp_directives(header: str) -> dict[str, list[str]]:
    directives = {}
    for part in header.split(";"):
        words = part.split()
        if words:
            directives[words[0]] = words[1:]
    return directives


def first_url(route: Route, ids: dict[str, set]) -> str:
    values = {}
    for name, converter in route.params:
        choices = vocabulary(name, converter)
        if choices is None:
            pool = (
                ids["uuid"]
                if converter == "uuid"
                else ids["int"]
                if converter == "int"
                else ids["str"]
            )
            choices = sorted(pool, key=str)
        values[name] = choices[0]
    return route.fill(values)


def assert_security_headers(response, url, *, personal: bool):
    csp = response.get("Content-Security-Policy")
    assert csp, f"{url}: no Content-Security-Policy"
    directives = csp_directives(csp)
    assert "'unsafe-inline'" not in directives.get("script-src", ["missing"]), url
    assert "'unsafe-eval'" not in directives.get("script-src", []), url
    assert directives["script-src"] == ["'self'"], url
    assert directives["default-src"] == ["'self'"], url
    assert directives["frame-ancestors"] == ["'none'"], url
    assert directives["object-src"] == ["'none'"], url
    assert directives["base-uri"] == ["'none'"], url
    assert "'unsafe-inline'" not in directives.get("style-src", []), url
    assert response.get("X-Content-Type-Options") == "nosniff", url
    if personal:
        assert "no-store" in response.get("Cache-Control", ""), f"{url}: personal but cacheable"


@pytest.fixture
def signed_in(client, alice):
    response = client.post(reverse("account_login"), {"login": "alice", "password": PASSWORD})
    assert response.status_code == 302
    return client


def test_every_route_sends_the_security_headers_to_a_signed_in_customer(signed_in, alice):
    ids = identifiers(seed_every_kind(alice))
    routes = all_routes()
    statuses = {}

    for route in routes:
        if route.name in ("account_logout",):
            continue  # a GET shows a confirmation, but keep the session for the rest
        url = first_url(route, ids)
        response = signed_in.get(url)
        statuses[url] = response.status_code
        assert_security_headers(response, url, personal=True)
        if route.name not in XFO_EXEMPT:
            assert response.get("X-Frame-Options") == "DENY", url

    # The sweep really rendered pages, not just redirects.
    assert sum(1 for s in statuses.values() if s == 200) >= 20, statuses


def test_anonymous_pages_send_the_headers_and_personal_paths_are_not_stored(client):
    for route in all_routes():
        if route.params:
            continue
        response = client.get(route.template)
        personal = route.template.startswith(("/me/", "/accounts/", "/api/", "/admin/"))
        assert_security_headers(response, route.template, personal=personal)
        assert response.get("X-Frame-Options") == "DENY", route.template


def test_public_pages_stay_cacheable(client):
    response = client.get("/")
    assert "no-store" not in response.get("Cache-Control", "")
