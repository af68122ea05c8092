"""As a brand integrator would: generate a client from /api/v1/openapi.json with
openapi-python-client, push a full customer record through it to a running server, and get
back exactly the documented 200 and 422 models."""

import datetime
import importlib
import subprocess
import sys
from pathlib import Path

import httpx
import pytest

from accounts.keys import server_key_create
from accounts.models import CustomerBrand
from ledger.models import PartnerAttribute, PersonalFact
from tests.factories import BrandFactory
from tests.record import full_record

PACKAGE = "candor_generated_client"


@pytest.fixture
def generated(live_server, tmp_path, monkeypatch):
    document = httpx.get(f"{live_server.url}/api/v1/openapi.json", timeout=10)
    assert document.status_code == 200
    spec = tmp_path / "openapi.json"
    spec.write_bytes(document.content)
    bin_dir = Path(sys.executable).parent
    done = subprocess.run(
        [
            str(bin_dir / "openapi-python-client"),
            "generate",
            "--path",
            str(spec),
            "--output-path",
            str(tmp_path / PACKAGE),
            "--meta",
            "none",
            "--fail-on-warning",
        ],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
        env={"PATH": f"{bin_dir}:/usr/bin:/bin", "HOME": str(tmp_path)},
    )
    assert done.returncode == 0, done.stdout + done.stderr
    monkeypatch.syspath_prepend(str(tmp_path))
    for name in [m for m in sys.modules if m.startswith(PACKAGE)]:
        del sys.modules[name]
    return importlib.import_module(PACKAGE)


@pytest.fixture
def key(transactional_db):
    return server_key_create(brand=BrandFactory(slug="northwind", name="Northwind"))[1]


def test_a_generated_client_pushes_a_full_record_and_reads_the_documented_answers(
    generated, key, live_server
):
    models = importlib.import_module(f"{PACKAGE}.models")
    customers = importlib.import_module(f"{PACKAGE}.api.ingest.ledger_api_ingest_customers")
    client = generated.AuthenticatedClient(base_url=live_server.url, token=key)

    item = models.CustomerRecordIn.from_dict(full_record("nw-gen"))
    # Typed as documented: a date for the birthday, enums for purposes and channels.
    assert item.record.birthday.value == datetime.date(1988, 2, 29)
    assert item.consents[0].purpose == models.ConsentInPurpose.THIRD_PARTY
    assert item.record.contact_preferences[0].channel == models.ChannelPreferenceInChannel.EMAIL
    answer = customers.sync_detailed(client=client, body=models.CustomerRecordBatch(items=[item]))

    assert answer.status_code == 200, answer.content
    assert isinstance(answer.parsed, models.CustomerRecordOut)
    assert (answer.parsed.stored, answer.parsed.third_party_dropped) == (1, 0)
    customer = CustomerBrand.objects.get(external_ref="nw-gen").customer
    assert PersonalFact.objects.filter(customer=customer).count() == 4
    assert PartnerAttribute.objects.filter(customer=customer).count() == 1

    again = customers.sync_detailed(client=client, body=models.CustomerRecordBatch(items=[item]))
    assert (again.status_code, again.parsed.duplicates) == (200, 1)

    bad = full_record("nw-gen-2")
    bad["record"]["addresses"][0]["country"] = "XX"
    refused = customers.sync_detailed(
        client=client,
        body=models.CustomerRecordBatch(items=[item, models.CustomerRecordIn.from_dict(bad)]),
    )
    assert refused.status_code == 422
    assert isinstance(refused.parsed, models.ErrorOut)
    assert (refused.parsed.index, refused.parsed.field) == (1, "record.addresses.0.country")
    assert not CustomerBrand.objects.filter(external_ref="nw-gen-2").exists()

    unauthenticated = generated.Client(base_url=live_server.url)
    denied = customers.sync_detailed(
        client=unauthenticated, body=models.CustomerRecordBatch(items=[item])
    )
    assert denied.status_code == 401 and isinstance(denied.parsed, models.ErrorOut)
