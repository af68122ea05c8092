"""CORS (G2): only on the widget API, only for the key's registered origins, no credentials."""

import pytest

from recommendations.widget import auth
from tests.widget import EVENTS_URL, ORIGIN, OTHER_ORIGIN, URL, Shop

pytestmark = pytest.mark.django_db

ACAO = "Access-Control-Allow-Origin"
ACAC = "Access-Control-Allow-Credentials"


@pytest.fixture
def shop(db):
    return Shop("shop-a")


def _no_cors(response):
    return not any(name.lower().startswith("access-control-") for name in response.headers)


def test_it_allows_the_registered_origin_without_credentials(client, shop):
    response = shop.get(client)

    assert response.status_code == 200
    assert response[ACAO] == ORIGIN
    assert ACAC not in response
    assert "origin" in response["Vary"].lower()


def test_it_answers_a_preflight_from_the_registered_origin(client, shop):
    response = client.options(
        f"{URL}?key={shop.key}",
        HTTP_ORIGIN=ORIGIN,
        HTTP_ACCESS_CONTROL_REQUEST_METHOD="GET",
        HTTP_ACCESS_CONTROL_REQUEST_HEADERS="authorization",
    )

    assert response.status_code == 200
    assert response[ACAO] == ORIGIN
    assert "authorization" in response["Access-Control-Allow-Headers"]
    assert ACAC not in response


def test_it_refuses_other_origins_with_403_and_no_cors_headers(client, shop):
    response = shop.get(client, origin=OTHER_ORIGIN)

    assert response.status_code == 403
    assert response.json() == {"error": "This page's origin is not registered for the widget key."}
    assert _no_cors(response)


def test_it_refuses_requests_without_an_origin(client, shop):
    response = client.get(URL, {"key": shop.key})

    assert response.status_code == 403
    assert _no_cors(response)


def test_it_gives_no_cors_headers_to_a_preflight_from_another_origin(client, shop):
    response = client.options(
        f"{EVENTS_URL}?key={shop.key}",
        HTTP_ORIGIN=OTHER_ORIGIN,
        HTTP_ACCESS_CONTROL_REQUEST_METHOD="POST",
    )

    assert _no_cors(response)


def test_it_binds_origins_to_their_own_key(client, shop):
    other = Shop("shop-b", origin="https://shop-b.example")

    response = client.get(URL, {"key": shop.key}, HTTP_ORIGIN=other.origin)

    assert response.status_code == 403
    assert _no_cors(response)


def test_it_refuses_unknown_and_revoked_keys_without_cors(client, shop):
    from accounts.keys import widget_key_revoke
    from accounts.models import WidgetKey

    widget_key_revoke(key=WidgetKey.objects.get(key=shop.key))
    auth.widget_key_memo_clear()

    for key in (shop.key, "pk_unknown", "sk_not_a_widget_key"):
        response = client.get(URL, {"key": key}, HTTP_ORIGIN=ORIGIN)
        assert response.status_code == 403
        assert _no_cors(response)


@pytest.mark.parametrize("method", ["get", "post", "options"])
def test_it_never_adds_cors_headers_to_other_api_paths(client, shop, method):
    # Even with a valid widget key and its registered origin in the request.
    for path in ("/api/v1/ingest/events", "/api/v1/docs", "/api/v1/openapi.json", "/me/"):
        response = getattr(client, method)(
            f"{path}?key={shop.key}",
            HTTP_ORIGIN=ORIGIN,
            HTTP_ACCESS_CONTROL_REQUEST_METHOD="POST",
        )
        assert _no_cors(response), path


# --- the shortcut for answers the widget view checked (config.middleware.CorsMiddleware) --


def test_it_answers_the_personal_and_popular_lists_for_exactly_the_checked_origin(
    client, shop, alice
):
    shop.link(alice, "cust-alice")
    shop.recommend(alice)

    personal = shop.get(client, token=shop.token("cust-alice"))
    popular = shop.get(client)

    assert personal.json()["personalized"] is True
    for response in (personal, popular):
        assert response[ACAO] == ORIGIN
        assert ACAC not in response
        assert {v.strip().lower() for v in response["Vary"].split(",")} >= {
            "origin",
            "authorization",
        }


def test_it_leaves_checked_answers_to_django_cors_headers_when_settings_ask_for_more(
    client, shop, settings
):
    settings.CORS_EXPOSE_HEADERS = ["x-widget-version"]

    response = shop.get(client)

    assert response[ACAO] == ORIGIN
    assert response["Access-Control-Expose-Headers"] == "x-widget-version"


def test_it_takes_the_origin_from_the_view_not_from_the_request():
    from django.http import HttpResponse
    from django.test import RequestFactory

    from config.middleware import CORS_CHECKED_ORIGIN, CorsMiddleware

    def view(request):
        response = HttpResponse("{}")
        setattr(response, CORS_CHECKED_ORIGIN, ORIGIN)
        return response

    def unmarked(request):
        return HttpResponse("{}")

    request = RequestFactory().get("/elsewhere/", HTTP_ORIGIN=OTHER_ORIGIN)

    assert CorsMiddleware(view)(request)[ACAO] == ORIGIN
    assert _no_cors(CorsMiddleware(unmarked)(request))
