"""Records of processing activities (GDPR Art. 30(1)), generated from the registry.

One activity per purpose: its legal basis, the kinds of data it uses (with their source,
sensitivity and retention per brand profile), the data subjects, the recipients (the
group's brands and the webhook endpoints they receive choices at) and the technical and
organisational measures that are switched on in this deployment. Nothing here is written
by hand per kind: a newly registered kind appears in the records by itself.
"""

from __future__ import annotations

import csv
import io
from urllib.parse import urlsplit

from django.apps import apps
from django.conf import settings
from django.utils import timezone

from accounts.crypto import EncryptedTextField
from accounts.models import Brand, Sensitivity, WebhookEndpoint

from .. import registry, selectors

CONTROLLER = "Candor (operated for the brands of the group)"
SUBJECTS = "Customers of the group's brands, and people whose record a brand sent us"


def _encrypted_fields() -> list[str]:
    return sorted(
        f"{model._meta.label}.{field.name}"
        for model in apps.get_models()
        for field in model._meta.concrete_fields
        if isinstance(field, EncryptedTextField)
    )


def security_measures() -> list[str]:
    """What this deployment actually has switched on (Art. 32), read from configuration."""
    measures = [
        "Fields encrypted at rest (MultiFernet, rotated with rotate_field_keys): "
        + ", ".join(_encrypted_fields()),
        "Card data: processor tokens, brand and last 4 only; no card number or CVV stored",
        "Access log and consent history append-only in the database (PostgreSQL triggers); "
        "consent history hash-chained and each change receipted with a signed JWS",
        "Every staff view of customer data logged and shown to the customer",
        "Brand server keys stored as SHA-256 only; widget keys origin-bound and read-only",
    ]
    if settings.ADMIN_REQUIRE_MFA:
        measures.append("Staff reach customer data only with two-factor authentication")
    if getattr(settings, "SECURE_HSTS_SECONDS", 0):
        measures.append("HTTPS only (HSTS), secure session cookies")
    return measures


def _recipients() -> dict:
    hosts: dict[str, set[str]] = {}
    for brand_name, url in WebhookEndpoint.objects.filter(disabled_at__isnull=True).values_list(
        "brand__name", "url"
    ):
        hosts.setdefault(brand_name, set()).add(urlsplit(url).netloc)
    return {
        "brands": list(Brand.objects.order_by("name").values_list("name", flat=True)),
        "webhooks": [
            {"brand": name, "hosts": sorted(found)} for name, found in sorted(hosts.items())
        ],
    }


def _kind_entry(kind) -> dict:
    return {
        "kind": kind.name,
        "label": kind.label,
        "description": kind.description,
        "source": kind.source.value,
        "source_label": kind.source.label,
        "sensitivity": kind.sensitivity,
        "retention": {
            s.value: selectors.retention_text(kind.retention_for(s.value)) for s in Sensitivity
        },
    }


def records() -> dict:
    recipients = _recipients()
    activities = []
    for purpose in registry.PURPOSES:
        legal = registry.purpose_legal(purpose)
        kinds = [k for k in registry.all_kinds() if purpose in k.purposes]
        # Shared beyond the brand: the purposes GPC ("do not sell or share") covers.
        shared = registry.Purpose(purpose).gpc
        activities.append(
            {
                "purpose": purpose,
                "name": legal["label"],
                "legal_basis": legal["basis"],
                "legal_basis_label": f"{legal['basis_label']} ({legal['article']})",
                "data_subjects": SUBJECTS,
                "kinds": [_kind_entry(k) for k in kinds],
                "recipients": recipients["brands"] if shared else ["Candor", "the brand itself"],
                "transfers_outside_eea": "none configured",
            }
        )
    return {
        "generated_at": timezone.now().isoformat(),
        "controller": CONTROLLER,
        "activities": activities,
        "recipients": recipients,
        "security_measures": security_measures(),
    }


CSV_HEADER = [
    "purpose",
    "legal_basis",
    "kind",
    "kind_label",
    "source",
    "sensitivity",
    *(f"retention_{s.value}" for s in Sensitivity),
    "data_subjects",
    "recipients",
    "transfers_outside_eea",
]


def records_csv(doc: dict | None = None) -> str:
    """One row per (purpose, kind); measures and webhook recipients as trailing rows."""
    doc = doc or records()
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(CSV_HEADER)
    for activity in doc["activities"]:
        for kind in activity["kinds"]:
            writer.writerow(
                [
                    activity["purpose"],
                    activity["legal_basis_label"],
                    kind["kind"],
                    kind["label"],
                    kind["source_label"],
                    kind["sensitivity"],
                    *(kind["retention"][s.value] for s in Sensitivity),
                    activity["data_subjects"],
                    "; ".join(activity["recipients"]),
                    activity["transfers_outside_eea"],
                ]
            )
    for hook in doc["recipients"]["webhooks"]:
        writer.writerow(["recipient", "", "", f"{hook['brand']} webhooks", *hook["hosts"]])
    for measure in doc["security_measures"]:
        writer.writerow(["security_measure", "", "", measure])
    return out.getvalue()
