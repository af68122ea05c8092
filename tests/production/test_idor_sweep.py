"""B1: every URL that takes an id, tried as another customer, anonymously, as another brand.

Patterns come from the URL resolver (tests/production/urlwalk.py), so a new view taking an
id is swept the day it lands. Bob gets one row of every registered data kind
(tests/production/seeds.py; a kind without a seed fails); alice then tries each of bob's
ids in every id-taking pattern, GET and POST: nothing may succeed, and the answer is 404
(never 403, which would confirm the id exists).
"""

import re

import pytest
from django.urls import reverse

from accounts.keys import server_key_create
from accounts.models import Customer, Purpose
from accounts.services import customer_create
from tests.factories import PASSWORD, AddressFactory, BrandFactory, UserFactory
from tests.production.seeds import identifiers, seed_every_kind
from tests.production.urlwalk import Route, all_routes
from transparency.registry import PURPOSES, all_kinds

pytestmark = pytest.mark.django_db

ID_PARAM = re.compile(r"(^|_)(pk|id|uuid|slug)$|^object_id$|^public_id$")
# Patterns left out of the customer sweep, each with its reason.
EXCLUDED_PREFIXES = {
    "/admin/": "staff only (is_staff + MFA); alice and anonymous are sent to the login",
    "/accounts/": "allauth: its path values are secret one-time keys, not ids",
    "/api/": "server/widget keys, not sessions: brand isolation tests; ids swept below",
}
PUBLIC_BY_DESIGN = {
    "receipt": "a deletion receipt is a capability URL (unguessable uuid, kinds and counts "
    "only): its owner may have no account left to log in with",
}


NOBODY = {
    "int": {2_000_000_000},
    "uuid": {"00000000-0000-4000-8000-000000000000"},
    "str": {"nobody-has-this"},
}


def takes_an_id(route: Route) -> bool:
    return any(ID_PARAM.search(name) for name, _ in route.params)


def customer_routes() -> list[Route]:
    return [
        route
        for route in all_routes()
        if takes_an_id(route)
        and not route.template.startswith(tuple(EXCLUDED_PREFIXES))
        and route.name not in PUBLIC_BY_DESIGN
    ]


def vocabulary(name: str, converter: str) -> list[str] | None:
    """Values for parameters that are not ids (a kind name, a purpose)."""
    if name == "kind":
        return [kind.name for kind in all_kinds()]
    if name == "purpose":
        return sorted(set(PURPOSES) | set(Purpose.values))
    return None


def urls_for(route: Route, ids: dict[str, set]) -> list[str]:
    """The route filled with every candidate id (and every value of its other params)."""
    fillings: list[dict] = [{}]
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
        fillings = [{**f, name: value} for f in fillings for value in choices]
    return [route.fill(f) for f in fillings]


def login_through_allauth(client, user):
    """A real login, so reauthentication-guarded views treat alice as recently signed in."""
    response = client.post(reverse("account_login"), {"login": user.username, "password": PASSWORD})
    assert response.status_code == 302, response.content[:500]


@pytest.fixture
def alice(db):
    """alice with ids far above bob's, so no id of bob's is also one of hers (any table)."""
    user = UserFactory(id=900_001, username="alice")
    Customer.objects.create(id=900_001, user=user)
    return customer_create(user=user)


def move_alices_rows_out_of_the_way(alice) -> None:
    """Rows alice gets by signing in (session, audit...) also move to high ids."""
    next_id = 900_100
    for kind in all_kinds():
        if kind.name in ("account", "customer_record"):
            continue
        model = kind.get_model()
        for pk in list(kind.rows_for(alice).values_list("pk", flat=True)):
            if pk < 900_000:
                model._default_manager.filter(pk=pk).update(**{model._meta.pk.attname: next_id})
                next_id += 1


@pytest.fixture
def bob_rows(bob):
    return seed_every_kind(bob)


@pytest.fixture
def bob_ids(bob_rows):
    return identifiers(bob_rows)


def without_alices_own(ids: dict[str, set], alice, bob_rows) -> dict[str, set]:
    """Drop values alice legitimately owns somewhere (her user, customer, session...)."""
    own = {row.pk for kind in all_kinds() for row in kind.rows_for(alice)}
    ids = {"int": ids["int"] - own, "uuid": ids["uuid"], "str": ids["str"] - {str(p) for p in own}}
    for kind, rows in bob_rows.items():
        assert {row.pk for row in rows} - own, f"every id of bob's {kind} collides with alice's"
    return ids


def test_the_sweep_covers_the_customer_patterns():
    names = {route.name for route in customer_routes()}
    # The sweep would prove nothing if the resolver walk found no id-taking pages.
    assert names, "no id-taking customer URL found"
    assert all(route.template.startswith("/me/") for route in customer_routes()), names


def test_the_harness_can_see_a_success(client, alice):
    """Control: the same machinery reaches alice's own row, so a 404 below means something."""
    login_through_allauth(client, alice.user)
    own = AddressFactory(customer=alice)
    route = next(r for r in customer_routes() if r.name == "dashboard:ledger_address_edit")

    assert client.get(route.fill({"pk": own.pk})).status_code == 200


def test_alice_gets_404_for_every_one_of_bobs_ids(client, bob, bob_rows, bob_ids, alice):
    # bob (and his rows) first, so his ids are mostly 1 and alice's mostly 2.
    login_through_allauth(client, alice.user)
    move_alices_rows_out_of_the_way(alice)
    bob_ids = without_alices_own(bob_ids, alice, bob_rows)
    before = {kind: sorted(row.pk for row in kind_rows) for kind, kind_rows in bob_rows.items()}
    failures, tried = [], 0

    for route in customer_routes():
        # What each method answers for an id nobody has: a 405 there is the view refusing
        # the method before any lookup, which says nothing about bob's rows.
        nobody = urls_for(route, NOBODY)[0]
        refused = {m for m in ("get", "post") if getattr(client, m)(nobody).status_code == 405}
        assert refused != {"get", "post"}, f"{route.name} accepts neither GET nor POST"
        for url in urls_for(route, bob_ids):
            for method in ("get", "post"):
                response = getattr(client, method)(url)
                tried += 1
                expected = 405 if method in refused else 404
                if response.status_code != expected:
                    failures.append(
                        f"{method.upper()} {url} ({route.name}) -> {response.status_code}"
                    )

    assert tried > 0
    assert failures == [], "\n".join(failures[:50])
    after = {
        kind.name: sorted(kind.rows_for(bob).values_list("pk", flat=True)) for kind in all_kinds()
    }
    assert after == before  # no POST changed anything of bob's


def test_anonymous_gets_the_login_page_or_404(client, bob_ids):
    login_url = reverse("account_login")
    failures = []

    for route in customer_routes():
        for url in urls_for(route, bob_ids)[:200]:
            for method in ("get", "post"):
                response = getattr(client, method)(url)
                ok = response.status_code == 404 or (
                    response.status_code == 302 and response["Location"].startswith(login_url)
                )
                if not ok:
                    failures.append(f"{method.upper()} {url} -> {response.status_code}")

    assert failures == [], "\n".join(failures[:50])


def test_staff_pages_with_ids_are_closed_to_customers(client, bob_ids, alice):
    login_through_allauth(client, alice.user)
    routes = [r for r in all_routes() if r.template.startswith("/admin/") and takes_an_id(r)]
    failures = []

    for route in routes[:40]:
        url = route.fill({name: next(iter(sorted(bob_ids["int"]))) for name, _ in route.params})
        response = client.get(url)
        if response.status_code not in (302, 404):
            failures.append(f"GET {url} -> {response.status_code}")

    assert failures == []


def test_another_brands_key_reaches_nothing_by_id(client, bob_ids):
    """API patterns taking ids (if any), with a valid key of a brand that owns none of them."""
    _, other_key = server_key_create(brand=BrandFactory(slug="other-brand"))
    routes = [r for r in all_routes() if r.template.startswith("/api/") and takes_an_id(r)]
    failures = []

    for route in routes:
        for url in urls_for(route, bob_ids):
            for method in ("get", "post"):
                response = getattr(client, method)(
                    url, HTTP_AUTHORIZATION=f"Bearer {other_key}", content_type="application/json"
                )
                if response.status_code not in (404, 405):
                    failures.append(f"{method.upper()} {url} -> {response.status_code}")

    assert failures == []
