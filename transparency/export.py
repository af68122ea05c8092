"""Streamed exports of everything held about one customer (GDPR Art. 15 and 20).

Both formats walk the registry kind by kind and read rows with `.values().iterator()`, so
memory stays flat whatever the data size. Items are exactly what My data shows (the same
owner lookups) with their source, purposes, retention, brand and collection time; fields
that are secrets (password hash, MFA secrets, session keys, payment tokens) never leave.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import timedelta

from django.core.serializers.json import DjangoJSONEncoder
from django.utils import timezone
from django.utils.html import escape

from accounts.models import Customer
from recommendations.switches import Switches, customer_switches, kind_in_use_now

from . import registry, selectors

CHUNK = 2000
FORMAT = "candor-export/1"

_encoder = DjangoJSONEncoder(ensure_ascii=False)


def _rows(customer: Customer, kind, switches: Switches) -> Iterator[dict]:
    fields = selectors.export_fields(kind)
    lookups = [attname for _, attname in fields]
    extra = {}
    if kind.created_field:
        extra["collected_at"] = kind.created_field
    if kind.brand_field:
        extra["brand"] = f"{kind.brand_field}__name"
        extra["brand_sensitivity"] = f"{kind.brand_field}__sensitivity"
    qs = kind.rows_for(customer).order_by("-pk").values("pk", *lookups, *extra.values())
    for row in qs.iterator(chunk_size=CHUNK):
        collected = row.get(extra.get("collected_at", ""), None)
        days = kind.retention_for(row.get(extra.get("brand_sensitivity", "")))
        expires = collected + timedelta(days=days) if collected and days is not None else None
        yield {
            "id": row["pk"],
            "brand": row.get(extra.get("brand", "")) if kind.brand_field else None,
            "collected_at": collected,
            # What is read now: the row's flag, its kind's switch and its purposes.
            "in_use": kind_in_use_now(
                kind,
                switches=switches,
                row_in_use=row.get("in_use"),
                sensitivity=row.get(extra.get("brand_sensitivity", "")),
            ),
            "retention_days": days,
            "delete_after": expires,
            "fields": {name: row[attname] for name, attname in fields},
        }


def _kind_header(kind) -> dict:
    return {
        "kind": kind.name,
        "label": kind.label,
        "description": kind.description,
        "source": kind.source.value,
        "source_label": kind.source.label,
        "purposes": [
            {
                "key": p.value,
                "label": p.label,
                "legal_basis": p.basis.value,
            }
            for p in kind.purposes
        ],
        "touchpoints": list(kind.touchpoints),
        "retention_days_default": kind.retention_days,
    }


def json_chunks(*, customer: Customer) -> Iterator[str]:
    """One JSON document, produced piece by piece."""
    head = {
        "format": FORMAT,
        "generated_at": timezone.now(),
        "customer": str(customer.public_id),
        "sources": {s.value: s.label for s in registry.Source},
        "purposes": registry.PURPOSES,
        "legal_bases": registry.legal_bases(),
    }
    yield _encoder.encode(head)[:-1] + ', "kinds": ['
    switches = customer_switches(customer_id=customer.pk)
    for i, kind in enumerate(registry.all_kinds()):
        yield ("," if i else "") + _encoder.encode(_kind_header(kind))[:-1] + ', "items": ['
        buffer = []
        for j, item in enumerate(_rows(customer, kind, switches)):
            buffer.append(("," if j else "") + _encoder.encode(item))
            if len(buffer) >= CHUNK:
                yield "".join(buffer)
                buffer = []
        yield "".join(buffer) + "]}"
    yield "]}\n"


def _cell(value) -> str:
    if value is None:
        return ""
    if isinstance(value, dict | list):
        return escape(json.dumps(value, cls=DjangoJSONEncoder, ensure_ascii=False))
    return escape(str(value))


def _legal_table() -> str:
    rows = "".join(
        f"<tr><td>{escape(b['label'])}</td><td>{escape(b['basis_label'])} ({escape(b['article'])})"
        f"</td><td>{escape(b['right'] or b['why_not_switchable'] + ' ' + b['instead'])}</td></tr>"
        for b in registry.legal_bases()
    )
    return (
        "<h2>Legal basis for each purpose</h2><table><thead><tr><th>Purpose</th>"
        f"<th>Legal basis</th><th>Your choice</th></tr></thead><tbody>{rows}</tbody></table>"
    )


def html_chunks(*, customer: Customer) -> Iterator[str]:
    """A self-contained, human-readable HTML page with one table per kind."""
    yield (
        '<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
        "<title>Your data held by Candor</title></head><body>"
        "<h1>Everything held about you</h1>"
        f"<p>Exported {escape(timezone.now().strftime('%d %B %Y %H:%M UTC'))} for customer "
        f"{escape(str(customer.public_id))}. Each section is one kind of data, with where it "
        "came from, what it is used for and how long it is kept.</p>" + _legal_table()
    )
    switches = customer_switches(customer_id=customer.pk)
    for kind in registry.all_kinds():
        fields = selectors.export_fields(kind)
        purposes = ", ".join(f"{p.label} ({p.basis.label.lower()})" for p in kind.purposes)
        yield (
            f'<section id="{escape(kind.name)}"><h2>{escape(kind.label)}</h2>'
            f"<p>{escape(kind.description)}</p>"
            f"<p><strong>Source:</strong> {escape(kind.source.label)}. "
            f"<strong>Used for:</strong> {escape(purposes)}. "
            f"<strong>Retention:</strong> "
            f"{escape(selectors.retention_text(kind.retention_days))}.</p>"
            "<table><thead><tr><th>Brand</th><th>Collected</th><th>In use</th>"
            "<th>Delete after</th>"
            + "".join(f"<th>{escape(name)}</th>" for name, _ in fields)
            + "</tr></thead><tbody>"
        )
        buffer = []
        count = 0
        for item in _rows(customer, kind, switches):
            count += 1
            in_use = item["in_use"]
            cells = [
                _cell(item["brand"]),
                _cell(item["collected_at"]),
                "" if in_use is None else ("yes" if in_use else "no (kept, not used)"),
                _cell(item["delete_after"]),
            ] + [_cell(item["fields"][name]) for name, _ in fields]
            buffer.append("<tr>" + "".join(f"<td>{c}</td>" for c in cells) + "</tr>")
            if len(buffer) >= CHUNK:
                yield "".join(buffer)
                buffer = []
        if not count:
            buffer.append(f'<tr><td colspan="{len(fields) + 4}">Nothing held.</td></tr>')
        yield "".join(buffer) + "</tbody></table></section>"
    yield "</body></html>\n"
