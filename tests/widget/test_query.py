"""The widget query string: validated at the edge, clear 422s, documented in the OpenAPI."""

import pytest

from tests.widget import ORIGIN, URL, Shop

pytestmark = pytest.mark.django_db


@pytest.fixture
def shop(db):
    return Shop("shop-q")


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ({"n": "99"}, "query.n"),
        ({"n": "0"}, "query.n"),
        ({"n": "eight"}, "query.n"),
        ({"slot": "<script>"}, "query.slot"),
        ({"slot": "x" * 41}, "query.slot"),
    ],
)
def test_it_refuses_a_bad_query_with_a_422_naming_the_field(client, shop, query, field):
    response = client.get(URL, {"key": shop.key, **query}, HTTP_ORIGIN=ORIGIN)

    assert response.status_code == 422
    body = response.json()
    assert body["field"] == field
    assert body["error"] == f"invalid input at field {field}"
    assert "no-store" in response["Cache-Control"]


def test_it_needs_a_key(client, shop):
    response = client.get(URL, {"slot": "home"}, HTTP_ORIGIN=ORIGIN)

    assert response.status_code == 422
    assert response.json()["field"] == "query.key"


def test_it_takes_the_last_of_repeated_parameters_and_decodes_escapes(client, shop):
    response = client.get(
        f"{URL}?key=pk_nope&key={shop.key}&slot=home%2Dpage&n=1&n=3", HTTP_ORIGIN=ORIGIN
    )

    assert response.status_code == 200
    body = response.json()
    assert body["slot"] == "home-page"
    assert len(body["items"]) == 3


def test_it_decodes_a_query_string_with_raw_non_ascii_bytes_like_django(client, shop):
    response = client.get(
        URL,
        QUERY_STRING=f"key={shop.key}&slot=caf\xc3\xa9".encode().decode("latin-1"),
        HTTP_ORIGIN=ORIGIN,
    )

    assert response.status_code == 422
    assert response.json()["field"] == "query.slot"


def test_it_refuses_a_flood_of_parameters(client, shop, settings):
    settings.DATA_UPLOAD_MAX_NUMBER_FIELDS = 10
    query = "&".join(f"p{i}=1" for i in range(20))

    response = client.get(f"{URL}?key={shop.key}&{query}", HTTP_ORIGIN=ORIGIN)

    assert response.status_code == 400


def test_the_openapi_documents_every_query_parameter(client):
    schema = client.get("/api/v1/openapi.json").json()
    parameters = schema["paths"][URL]["get"]["parameters"]

    by_name = {p["name"]: p for p in parameters}
    assert list(by_name) == ["key", "slot", "n", "token"]
    assert all(p["in"] == "query" for p in parameters)
    assert by_name["key"]["required"] is True
    assert by_name["key"]["schema"]["maxLength"] == 60
    assert by_name["slot"]["schema"]["pattern"] == "^[A-Za-z0-9_-]+$"
    assert by_name["n"]["schema"]["maximum"] == 20
    assert by_name["n"]["schema"]["default"] == 8
    assert by_name["token"]["required"] is False
