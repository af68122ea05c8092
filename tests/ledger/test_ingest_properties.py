"""Generated batches through the ingest API, then every page of the customer (G1, G3).

Hypothesis builds batches around the edges of every field: times from year 1 to 9999 at
offsets up to ±23:59 (and naive, and not times at all), decimals far beyond their columns,
negative and huge integers, long and unicode text with NUL and lone surrogates. Each batch
is answered below 500; a refused one stored nothing. Then the brand is retrained and every
page, export and the widget are rendered for the customer the batches were about: no 5xx.
"""

import json
from datetime import UTC, datetime, timedelta, timezone

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from accounts.keys import brand_token_secret_rotate, widget_key_create
from accounts.models import AuditEvent, CustomerBrand
from ledger.models import Event, Order, OrderLine, Product
from recommendations import services as rec_services
from tests.factories import CustomerBrandFactory, ProductFactory
from tests.ledger.customer_pages import every_page
from tests.ledger.ingest_helpers import post
from tests.widget import URL, mint

pytestmark = pytest.mark.django_db

EXAMPLES = 60  # ~30-40 s on PostgreSQL on a shared CI core
ORIGIN = "https://northwind.example"

# --- values around the edges ------------------------------------------------------------


def mostly(usual, unusual, one_in: int = 12):
    """`usual`, and one time in `one_in` `unusual`: whole batches stay valid often enough
    for the edge values inside them to reach the database and the pages."""
    return st.integers(1, one_in).flatmap(lambda n: unusual if n == 1 else usual)


offsets = st.integers(-(24 * 60 - 1), 24 * 60 - 1).map(lambda m: timezone(timedelta(minutes=m)))
any_time = st.datetimes(min_value=datetime(1, 1, 1), max_value=datetime(9999, 12, 31, 23, 59))
window_time = st.datetimes(min_value=datetime(1970, 1, 1), max_value=datetime(2026, 1, 1))
aware = st.builds(
    lambda d, tz: d.replace(tzinfo=tz).isoformat(), st.one_of(any_time, window_time), offsets
)
edge_time = st.sampled_from(
    [
        "0001-01-01T00:00:00+14:00",
        "0001-01-01T00:00:00+23:59",
        "9999-12-31T23:59:59-14:00",
        "9999-12-31T23:59:59-23:59",
        "1970-01-01T00:00:00Z",
        "1969-12-31T23:59:59.999999Z",
    ]
)
times = mostly(
    st.builds(lambda d, tz: d.replace(tzinfo=tz).isoformat(), window_time, offsets),
    st.one_of(
        aware,
        edge_time,
        any_time.map(datetime.isoformat),  # naive
        st.sampled_from(["infinity", ""]),
        st.integers(),
    ),
    one_in=3,
)
money = st.decimals(min_value=0, max_value=10**8 - 1, places=2).map(str)
decimals = mostly(
    st.one_of(money, st.sampled_from(["99999999.99", "0", "0.01"])),
    st.one_of(
        st.decimals(allow_nan=True, allow_infinity=True).map(str),
        st.sampled_from(["100000000.00", "9999999999.99", "1e12", "-0.01", "0.001", "1E+400"]),
        st.integers(-(2**70), 2**70),
        st.floats(),
    ),
)
quantities = mostly(st.one_of(st.integers(1, 5), st.just(100_000)), st.integers(-(2**70), 2**70))
text = st.one_of(
    st.text(max_size=3),
    st.text(st.characters(exclude_categories=()), min_size=95, max_size=260),
    st.text(st.characters(), max_size=40),
    st.sampled_from(["a\x00b", "\ud800", "é" * 101, " ", "x" * 201, "😀" * 100]),
)
short_text = mostly(st.text(st.characters(exclude_categories=("Cs",)), max_size=30), text)
refs = mostly(st.sampled_from(["cust-1", "cust-2"]), st.one_of(st.just("nobody"), text))
products = mostly(st.sampled_from(["shoe", "hat"]), st.one_of(st.just("nope"), text))
kinds = mostly(
    st.sampled_from(["view", "click", "search", "add_to_cart", "rating"]), st.just("teleport")
)


def ids(prefix):
    return mostly(st.integers(0, 30).map(lambda n: f"{prefix}-{n}"), text)


event = st.fixed_dictionaries(
    {"external_id": ids("ev"), "customer_ref": refs, "kind": kinds, "occurred_at": times},
    optional={
        "product_ref": products,
        "value": mostly(st.floats(-1e9, 1e9), st.floats() | decimals),
        "query": short_text,
    },
)
line = st.fixed_dictionaries(
    {"product_ref": products, "unit_price": decimals}, optional={"quantity": quantities}
)
order = st.fixed_dictionaries(
    {
        "external_id": ids("ord"),
        "customer_ref": refs,
        "placed_at": times,
        "lines": st.lists(line, min_size=1, max_size=2),
    },
    optional={"total": decimals, "currency": mostly(st.sampled_from(["EUR", "GBP"]), text)},
)
product = st.fixed_dictionaries(
    {"external_id": ids("p"), "name": mostly(st.text(min_size=1, max_size=30), text)},
    optional={"price": decimals, "category": short_text, "active": st.booleans()},
)
customer = st.fixed_dictionaries({"external_ref": refs})
batches = st.one_of(
    st.tuples(st.just("events"), st.lists(event, min_size=1, max_size=4)),
    st.tuples(st.just("orders"), st.lists(order, min_size=1, max_size=2)),
    st.tuples(st.just("products"), st.lists(product, min_size=1, max_size=3)),
    st.tuples(st.just("customers"), st.lists(customer, min_size=1, max_size=3)),
)


# Values at the very edge of what is accepted, so they certainly reach the pages.
EDGE_LINE = {"product_ref": "shoe", "quantity": 100, "unit_price": "99999999.99"}
EDGE_ORDER = {
    "external_id": "ord-edge",
    "customer_ref": "cust-1",
    "placed_at": "1970-01-01T14:00:00+14:00",
    "lines": [EDGE_LINE],
}
EDGE_EVENTS = [
    {
        "external_id": f"ev-edge-{n}",
        "customer_ref": "cust-1",
        "kind": "search",
        "occurred_at": when,
        "query": "😀" * 200,
        "product_ref": "hat",
        "value": -1e9,
    }
    for n, when in enumerate(
        ["1970-01-01T00:00:00Z", (datetime.now(UTC) + timedelta(hours=23)).isoformat()]
    )
]


def _counts() -> tuple[int, ...]:
    return tuple(
        m.objects.count() for m in (Product, Order, OrderLine, Event, CustomerBrand, AuditEvent)
    )


def test_generated_batches_never_get_a_server_error_nor_break_a_page(
    client, brand, key, shopper, shoe, alice, bob
):
    ProductFactory(brand=brand, external_id="hat", name="Hat")
    CustomerBrandFactory(customer=bob, brand=brand, external_ref="cust-2")
    answered = []

    @given(batch=batches)
    @example(batch=("orders", [EDGE_ORDER]))
    @example(batch=("events", EDGE_EVENTS))
    @example(
        batch=("products", [{"external_id": "p-0", "name": "é" * 200, "price": "99999999.99"}])
    )
    @settings(
        max_examples=EXAMPLES,
        deadline=None,
        database=None,
        derandomize=True,
        suppress_health_check=list(HealthCheck),
    )
    def check(batch):
        endpoint, items = batch
        before = _counts()
        body = json.dumps({"items": items})
        response = post(client, endpoint, body, key)
        answered.append(response.status_code)
        assert response.status_code < 500, (endpoint, body[:500])
        if response.status_code != 200:
            assert _counts() == before, (endpoint, response.json())

    check()

    # Both sides of the edge were exercised, and edge values reached the pages.
    assert 200 in answered and 422 in answered
    assert Event.objects.filter(customer=alice).exists()
    assert Order.objects.filter(customer=alice).exists()
    rec_services.train_brand(brand_id=brand.pk)
    client.force_login(alice.user)
    statuses = every_page(client)
    assert {name: s for name, s in statuses.items() if s >= 500} == {}
    secret = brand_token_secret_rotate(brand=brand)
    widget_key = widget_key_create(brand=brand, origins=[ORIGIN]).key
    token = mint(secret, sub="cust-1", iss=brand.slug)
    for auth in ({}, {"HTTP_AUTHORIZATION": f"Bearer {token}"}):
        response = client.get(URL, {"key": widget_key}, HTTP_ORIGIN=ORIGIN, **auth)
        assert response.status_code == 200
