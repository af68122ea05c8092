"""Helpers for the brand-record tests: a full record as a brand integrator sends it."""

import json

BASE = "/api/v1/ingest/customers"
WHEN = "2026-05-12T09:30:00+00:00"
LATER = "2026-06-03T18:00:00+00:00"


def full_record(ref: str = "nw-1", **over) -> dict:
    """Every part of the brand's record, with distinctive values."""
    item = {
        "external_ref": ref,
        "record": {
            "legal_name": {"value": "Zebulon Quartermaine", "collected_at": WHEN},
            "birthday": {"value": "1988-02-29", "collected_at": WHEN},
            "email": {"value": "zeb.q@example.org", "collected_at": WHEN},
            "phone": {"value": "+44 7700 900417", "collected_at": WHEN},
            "addresses": [
                {
                    "external_id": "addr-home",
                    "label": "Home",
                    "recipient": "Zebulon Quartermaine",
                    "line1": "17 Wisteria Crescent",
                    "city": "Bath",
                    "postal_code": "BA1 7QZ",
                    "country": "GB",
                    "collected_at": WHEN,
                }
            ],
            "contact_preferences": [
                {"channel": "email", "allowed": False, "collected_at": WHEN},
                {"channel": "sms", "allowed": True, "collected_at": WHEN},
            ],
        },
        "consents": [
            {
                "purpose": "third_party",
                "allowed": True,
                "collected_at": WHEN,
                "channel": "checkout",
                "wording_version": "v3",
            }
        ],
        "third_party": [
            {
                "partner": "Acme Data Co",
                "name": "household income band",
                "value": "band-D-distinctive",
                "purpose": "personalization",
                "obtained_at": WHEN,
            }
        ],
    }
    item.update(over)
    return item


def push(client, key: str, *items: dict):
    return client.post(
        BASE,
        json.dumps({"items": list(items)}),
        content_type="application/json",
        HTTP_AUTHORIZATION=f"Bearer {key}",
    )
