"""Signed consent receipts: one per consent history row, as a compact JWS.

The receipt follows ISO/IEC TS 27560 (consent record information structure), with the
Kantara Consent Receipt v1.1 field names where that standard leaves a name open: who
(piiPrincipalId), which brands (piiControllers), purposes with their legal basis and the
kinds of data they use (services[].purposes[]), channel (collectionMethod) and time.
It is signed with Ed25519 (JOSE alg "Ed25519", RFC 9864) by the first key of
CONSENT_RECEIPT_KEYS; every key in that list is published at /.well-known/jwks.json, so
receipts signed before a rotation still verify. Rotate like the field keys: put a new key
first (`manage.py receipt_keys --new` prints one), keep the old ones while receipts signed
with them should verify.
"""

from __future__ import annotations

import base64
import json
from functools import cache

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from joserfc import jws
from joserfc.jwk import KeySet, OKPKey

from accounts.models import ConsentEvent, Customer, CustomerBrand

from .. import registry

ALG = "Ed25519"
TYP = "consent-receipt+jws"
VERSION = "KI-CR-v1.1.0"
SCHEMA = "ISO/IEC TS 27560:2023"


def _seed(text: str) -> bytes:
    raw = base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
    if len(raw) != 32:
        raise ImproperlyConfigured("Each CONSENT_RECEIPT_KEYS entry is 32 bytes, base64url.")
    return raw


@cache
def _keys(seeds: tuple[str, ...]) -> tuple[OKPKey, ...]:
    if not seeds:
        raise ImproperlyConfigured("CONSENT_RECEIPT_KEYS is empty: receipts cannot be signed.")
    keys = []
    for text in seeds:
        private = Ed25519PrivateKey.from_private_bytes(_seed(text))
        key = OKPKey.import_key(private)
        keys.append(OKPKey.import_key(private, {"kid": key.thumbprint(), "use": "sig"}))
    return tuple(keys)


def signing_keys() -> tuple[OKPKey, ...]:
    return _keys(tuple(settings.CONSENT_RECEIPT_KEYS))


def new_key() -> str:
    from cryptography.hazmat.primitives import serialization

    raw = Ed25519PrivateKey.generate().private_bytes(
        serialization.Encoding.Raw,
        serialization.PrivateFormat.Raw,
        serialization.NoEncryption(),
    )
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def jwks() -> dict:
    return {
        "keys": [
            {**key.as_dict(private=False), "kid": key.kid, "use": "sig", "alg": ALG}
            for key in signing_keys()
        ]
    }


def _kind(name: str):
    try:
        return registry.get(name) if name else None
    except KeyError:
        return None


def receipt_claims(
    *, event: ConsentEvent, customer: Customer, brands: list[str], policy_url: str
) -> dict:
    """The claims of one consent receipt (Kantara consent receipt fields). Longer than 50
    lines: it is the claim set itself, one key per field of the specification.
    """
    kind = _kind(event.data_kind)
    if kind is not None:
        purposes, kinds = list(kind.purposes), [kind.label]
    else:
        purposes = [event.purpose] if event.purpose in registry.PURPOSES else []
        kinds = [k.label for k in registry.all_kinds() if event.purpose in k.purposes]
    controllers = brands or ["Candor"]
    return {
        "version": VERSION,
        "schema": SCHEMA,
        "consentReceiptID": f"urn:candor:consent:{event.hash or event.pk}",
        "jurisdiction": "EU",
        "language": "en",
        "consentTimestamp": int(event.created_at.timestamp()),
        "iat": int(event.created_at.timestamp()),
        "collectionMethod": event.channel,
        "piiPrincipalId": str(customer.public_id),
        "piiControllers": [{"piiController": name} for name in controllers],
        "policyUrl": policy_url,
        "services": [
            {
                "service": name,
                "purposes": [
                    {
                        "purpose": registry.PURPOSES[p],
                        "purposeKey": p,
                        "legalBasis": registry.PURPOSE_BASIS[p].value,
                        "consentType": "EXPLICIT" if event.channel != "default" else "DEFAULT",
                        "piiCategory": kinds,
                        "primaryPurpose": True,
                        "termination": "Until you switch it off on My data, or close your account.",
                        "thirdPartyDisclosure": p in ("cross_brand", "third_party"),
                    }
                    for p in purposes
                ],
            }
            for name in controllers
        ],
        "sensitive": False,
        "spiCat": [],
        "event": {
            "type": "given" if event.granted else "withdrawn",
            "time": event.created_at.isoformat(),
            "by": event.actor_label,
            "object": event.object_ref,
        },
        "chain": {"hash": event.hash, "prev": event.prev_hash},
    }


def receipt_sign(claims: dict) -> str:
    key = signing_keys()[0]
    payload = json.dumps(claims, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    header = {"alg": ALG, "kid": key.kid, "typ": TYP}
    return jws.serialize_compact(header, payload.encode(), key, algorithms=[ALG])


def receipt_verify(token: str, keyset: dict) -> dict:
    """The claims of `token` if it verifies against `keyset` (a JWKS); raises otherwise."""
    found = jws.deserialize_compact(token, KeySet.import_key_set(keyset), algorithms=[ALG])
    return json.loads(found.payload)


def customer_receipts(*, customer: Customer, policy_url: str) -> list[dict]:
    brands = list(
        CustomerBrand.objects.filter(customer=customer)
        .order_by("brand__name")
        .values_list("brand__name", flat=True)
    )
    out = []
    for event in ConsentEvent.objects.filter(customer=customer).order_by("pk").iterator():
        claims = receipt_claims(
            event=event, customer=customer, brands=brands, policy_url=policy_url
        )
        out.append({"id": event.pk, "jws": receipt_sign(claims)})
    return out
