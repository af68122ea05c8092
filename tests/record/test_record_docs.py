"""The brand docs show the record a brand can send; their example is what the API takes."""

import html
import json
import re

from accounts.keys import server_key_create
from ledger.models import PartnerAttribute, PersonalFact
from tests.factories import BrandFactory
from tests.record import push


def test_the_docs_example_record_is_accepted_as_documented(client, db):
    page = client.get("/widget/docs/").content.decode()
    assert 'id="record"' in page and "customer_values_kept" in page
    assert "third_party_dropped" in page and "<code>data.updated</code>" in page
    example = re.search(r"ingest/customers \\\n.*?-d '(\{.*?\})'</code>", page, re.S)
    assert example, "the record example is missing"
    items = json.loads(html.unescape(example.group(1)))["items"]
    key = server_key_create(brand=BrandFactory(slug="northwind", name="Northwind"))[1]

    response = push(client, key, *items)

    assert response.status_code == 200, response.content
    assert response.json()["stored"] == 1
    assert PersonalFact.objects.count() == 4
    assert PartnerAttribute.objects.count() == 1  # its consent allowed third-party enrichment
