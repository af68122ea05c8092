"""Signed consent receipts (ISO/IEC TS 27560 / Kantara v1.1 shape) and the published JWKS."""

import json

import pytest
from django.test import override_settings
from django.urls import reverse
from joserfc.errors import BadSignatureError

from accounts.models import ConsentEvent
from tests.factories import BrandFactory
from transparency.standards import receipts

NEW_KEY = "bmV3LXJlY2VpcHQta2V5LWZvci1yb3RhdGlvbi10ZXM"


def _switch_off(client, purpose="personalization"):
    client.post(reverse("dashboard:data_purpose", args=[purpose]), {"granted": "0"})


def _download(client) -> dict:
    response = client.get(reverse("dashboard:consent_receipts"))
    assert response.status_code == 200
    assert response["Content-Disposition"].startswith("attachment;")
    return json.loads(response.content)


def test_every_consent_change_has_a_receipt_that_verifies_against_the_jwks(
    alice_client, alice, client
):
    from accounts.models import CustomerBrand as Link

    Link.objects.create(customer=alice, brand=BrandFactory(name="Acme"), external_ref="a-1")
    _switch_off(alice_client)
    doc = _download(alice_client)
    keyset = json.loads(client.get(reverse("jwks")).content)

    assert len(doc["receipts"]) == ConsentEvent.objects.filter(customer=alice).count() == 1
    claims = receipts.receipt_verify(doc["receipts"][0]["jws"], keyset)
    assert claims["piiPrincipalId"] == str(alice.public_id)
    assert claims["piiControllers"] == [{"piiController": "Acme"}]
    assert claims["collectionMethod"] == "dashboard"
    assert claims["event"]["type"] == "withdrawn"
    purpose = claims["services"][0]["purposes"][0]
    assert purpose["purposeKey"] == "personalization" and purpose["legalBasis"] == "consent"
    assert purpose["piiCategory"]  # the kinds of data this purpose uses
    assert claims["version"] == "KI-CR-v1.1.0" and claims["consentTimestamp"]


def test_a_tampered_receipt_fails(alice_client, client):
    _switch_off(alice_client)
    token = _download(alice_client)["receipts"][0]["jws"]
    keyset = json.loads(client.get(reverse("jwks")).content)
    header, payload, signature = token.split(".")
    claims = json.loads(receipts.base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    claims["event"]["type"] = "given"
    forged = receipts.base64.urlsafe_b64encode(json.dumps(claims).encode()).decode().rstrip("=")

    with pytest.raises(BadSignatureError):
        receipts.receipt_verify(f"{header}.{forged}.{signature}", keyset)


def test_receipts_signed_before_a_rotation_still_verify(alice_client, client, settings):
    _switch_off(alice_client)
    old_token = _download(alice_client)["receipts"][0]["jws"]

    with override_settings(CONSENT_RECEIPT_KEYS=[NEW_KEY, *settings.CONSENT_RECEIPT_KEYS]):
        keyset = json.loads(client.get(reverse("jwks")).content)
        new_token = _download(alice_client)["receipts"][0]["jws"]

    assert len(keyset["keys"]) == 2
    assert receipts.receipt_verify(old_token, keyset) == receipts.receipt_verify(new_token, keyset)
    assert old_token.split(".")[0] != new_token.split(".")[0]  # another kid signed it


def test_one_receipt_downloads_and_another_customers_is_404(alice_client, alice, bob):
    _switch_off(alice_client)
    mine = ConsentEvent.objects.get(customer=alice)
    theirs = ConsentEvent.objects.create(
        customer=bob, purpose="contact", granted=False, channel="x"
    )

    ok = alice_client.get(reverse("dashboard:consent_receipt", args=[mine.pk]))
    assert ok.status_code == 200 and ok["Content-Type"] == "application/jose"
    assert (
        alice_client.get(reverse("dashboard:consent_receipt", args=[theirs.pk])).status_code == 404
    )


def test_my_data_links_the_receipts_and_the_keys(alice_client):
    page = alice_client.get(reverse("dashboard:data")).content.decode()

    assert reverse("dashboard:consent_receipts") in page and reverse("jwks") in page
