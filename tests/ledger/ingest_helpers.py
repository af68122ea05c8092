"""Requests to the ingest API and minimal valid items, shared by the ingest tests."""

import json

BASE = "/api/v1/ingest"
WHEN = "2026-03-01T10:00:00+00:00"


def post(client, endpoint, payload, key=None, **extra):
    if key is not None:
        extra["HTTP_AUTHORIZATION"] = f"Bearer {key}"
    body = payload if isinstance(payload, str | bytes) else json.dumps(payload)
    return client.post(f"{BASE}/{endpoint}", body, content_type="application/json", **extra)


def event(n, ref="cust-1", **over):
    item = {
        "external_id": f"ev-{n}",
        "customer_ref": ref,
        "kind": "view",
        "product_ref": "shoe",
        "occurred_at": WHEN,
    }
    item.update(over)
    return item


def order(n, ref="cust-1", **over):
    item = {
        "external_id": f"ord-{n}",
        "customer_ref": ref,
        "placed_at": WHEN,
        "lines": [{"product_ref": "shoe", "quantity": 2, "unit_price": "10.50"}],
    }
    item.update(over)
    return item
