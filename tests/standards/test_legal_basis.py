"""Legal basis per purpose (GDPR Art. 6) on My data, the statement and in the export."""

import json

from django.urls import reverse
from django.utils.html import escape

from tests.transparency.test_export import body, reauthenticated
from transparency import registry, selectors


def test_every_purpose_has_a_legal_basis():
    assert set(registry.PURPOSE_BASIS) == set(registry.PURPOSES)


def test_no_purpose_switchable_today_loses_its_switch():
    for purpose in selectors.SWITCHABLE_PURPOSES:
        assert registry.purpose_legal(purpose)["switchable"], purpose
    assert registry.purpose_legal("checkout")["basis"] == "consent"  # "Faster checkout"


def test_contract_and_legal_obligation_say_why_and_what_instead():
    for row in registry.legal_bases():
        if row["basis"] in ("contract", "legal_obligation"):
            assert not row["switchable"] and row["why_not_switchable"] and row["instead"]
        else:
            assert row["right"] and not row["why_not_switchable"]


def test_my_data_shows_basis_and_the_right_each_switch_exercises(alice_client):
    page = alice_client.get(reverse("dashboard:data")).content.decode()

    assert "withdraws your consent (GDPR Art. 7(3))" in page
    assert "your objection (GDPR Art. 21)" in page
    assert escape(registry.NOT_SWITCHABLE["service"][1]) in page
    assert "Why it cannot be switched off" in page
    # Purposes switchable today keep their switch.
    for purpose in ("personalization", "contact", "cross_brand", "third_party"):
        assert f'id="purpose-{purpose}"' in page


def test_the_statement_lists_each_purpose_with_its_basis(client, db):
    page = client.get(reverse("transparency_statement")).content.decode()

    assert 'id="legal-basis"' in page
    for row in registry.legal_bases():
        assert f"{escape(row['basis_label'])} ({row['article']})" in page


def test_the_export_carries_the_basis_per_purpose(alice_client, password):
    url = reverse("dashboard:data_export_json")
    doc = json.loads(body(reauthenticated(alice_client, url, password)))

    bases = {b["purpose"]: b["basis"] for b in doc["legal_bases"]}
    assert bases["service"] == "contract" and bases["personalization"] == "consent"
    kind = next(k for k in doc["kinds"] if k["kind"] == "access_log")
    assert kind["purposes"][0]["legal_basis"] == "legal_obligation"

    html = body(reauthenticated(alice_client, reverse("dashboard:data_export_html"), password))
    assert "Legal basis for each purpose" in html and "GDPR Art. 6(1)(b)" in html
