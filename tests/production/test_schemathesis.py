"""G1: schemathesis fuzzes every /api/v1/ operation: 0 server errors.

The schema is whatever /api/v1/openapi.json serves, so new operations are fuzzed the day
they land. Each operation gets schema-valid and schema-violating examples, sent through
the WSGI app with a valid server key (ingest) or a valid widget key and origin (widget)
on part of them, so both the authenticated and the refused paths are exercised.
"""

import pytest
import schemathesis
from django.core import signals
from django.db import close_old_connections
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from schemathesis import GenerationMode

from accounts.keys import server_key_create, widget_key_create
from config.wsgi import application
from tests.factories import BrandFactory, ProductFactory

pytestmark = pytest.mark.django_db

EXAMPLES_PER_MODE = 120  # per operation: positive + negative = 240
ORIGIN = "https://shop.example.com"


@pytest.fixture(autouse=True)
def _keep_the_test_connection():
    """Like Django's test client: a request must not close the test's DB connection."""
    signals.request_started.disconnect(close_old_connections)
    signals.request_finished.disconnect(close_old_connections)
    yield
    signals.request_started.connect(close_old_connections)
    signals.request_finished.connect(close_old_connections)


@pytest.fixture
def credentials():
    brand = BrandFactory(slug="fuzzed-brand")
    ProductFactory(brand=brand, external_id="sku-1")
    _, server_key = server_key_create(brand=brand)
    widget_key = widget_key_create(brand=brand, origins=[ORIGIN])
    return {"server": server_key, "widget": widget_key.key}


def load_operations():
    schema = schemathesis.openapi.from_wsgi("/api/v1/openapi.json", application)
    operations = [result.ok() for result in schema.get_all_operations()]
    assert operations, "the API serves no operation"
    return operations


def fuzz(operation, mode, credentials, statuses: set) -> list[str]:
    failures: list[str] = []
    secured = bool(operation.definition.raw.get("security"))
    query_names = {p.get("name") for p in operation.definition.raw.get("parameters", [])}

    @settings(
        max_examples=EXAMPLES_PER_MODE,
        deadline=None,
        database=None,
        derandomize=True,
        suppress_health_check=list(HealthCheck),
    )
    @given(case=operation.as_strategy(generation_mode=mode), authorized=st.booleans())
    def run(case, authorized):
        headers = {}
        if authorized and secured:
            headers["Authorization"] = f"Bearer {credentials['server']}"
        if authorized and "key" in query_names:
            case.query = {**(case.query or {}), "key": credentials["widget"]}
            headers["Origin"] = ORIGIN
        response = case.call(headers=headers)
        statuses.add(response.status_code)
        if response.status_code >= 500:
            failures.append(
                f"{operation.method.upper()} {operation.path} [{mode.value}] -> "
                f"{response.status_code}: {response.text[:200]}"
            )

    run()
    return failures


def test_no_operation_answers_a_server_error(credentials):
    failures = []
    operations = load_operations()

    reached = {}

    for operation in operations:
        statuses: set[int] = set()
        for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):
            failures += fuzz(operation, mode, credentials, statuses)
        reached[f"{operation.method.upper()} {operation.path}"] = statuses

    assert failures == [], "\n".join(failures[:30])
    # The keys worked: every operation got past authentication at least once.
    assert all(statuses - {401, 403} for statuses in reached.values()), reached
