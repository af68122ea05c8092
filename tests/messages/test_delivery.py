"""Delivery through a real SMTP server on 127.0.0.1: multipart mail, one-click unsubscribe
(RFC 8058), marketing switched off before it was due, erasure, SMS and post gateways."""

import json
import re
from datetime import time, timedelta

from django.utils import timezone
from freezegun import freeze_time

from accounts.models import ConsentEvent, WebhookDelivery
from ledger.messages.api import MessageIn
from ledger.messages.dispatch import messages_dispatch
from ledger.messages.services import messages_create
from ledger.models import ContactPreference, Message
from tests.factories import AddressFactory, ContactPreferenceFactory, PersonalFactFactory
from transparency.services import account_erase, purpose_set_granted

from .conftest import message


def _send(brand, **overrides):
    return messages_create(brand=brand.brand, items=[MessageIn(**message(**overrides))])


def test_a_due_message_arrives_as_multipart_text_and_html(smtp, ada, northwind):
    _send(northwind)

    result = messages_dispatch()

    assert result.sent == 1
    (mail,) = smtp.mails
    assert smtp.envelopes[0][1] == ["ada@example.org"]
    assert mail["Subject"] == "Northwind Outfitters: Your address on file doesn't match"
    assert mail.get_content_type() == "multipart/alternative"
    text = mail.get_body(("plain",)).get_content()
    html = mail.get_body(("html",)).get_content()
    assert "Check my address: http://" in text and "/m/" in text
    assert 'href="http' in html and "Check my address</a>" in html
    assert "List-Unsubscribe" not in mail  # a service message
    row = Message.objects.get()
    assert row.state == "sent" and row.sent_at is not None


def test_marketing_carries_one_click_unsubscribe_that_switches_the_brand_off(
    smtp, ada, northwind, client
):
    northwind.endpoint("https://nw.example/hooks")
    _send(northwind, category="marketing")
    messages_dispatch()
    (mail,) = smtp.mails
    assert mail["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    url = re.fullmatch(r"<(.+)>", mail["List-Unsubscribe"].strip()).group(1)
    path = url.split("8000", 1)[1]

    # As a mail client does it (RFC 8058): a POST with this body, no cookie, no CSRF token.
    response = client.post(
        path, "List-Unsubscribe=One-Click", content_type="application/x-www-form-urlencoded"
    )

    assert response.status_code == 200
    pref = ContactPreference.objects.get(customer=ada, brand=northwind.brand)
    assert pref.marketing_allowed is False
    assert ConsentEvent.objects.filter(customer=ada, purpose="contact", granted=False).exists()
    told = json.loads(WebhookDelivery.objects.get(event_type="consent.changed").payload)
    assert told["data"] | {"at": None} == {
        "customer_ref": "nw-ada",
        "purpose": "contact",
        "allowed": False,
        "scope": "brand",
        "at": None,
    }
    # The next marketing message is withheld; service still goes.
    _send(northwind, external_id="m-2", category="marketing")
    _send(northwind, external_id="m-3")
    assert Message.objects.get(external_id="m-2").state == "suppressed"
    assert Message.objects.get(external_id="m-3").state == "scheduled"
    # A second POST changes nothing more.
    client.post(path)
    assert ConsentEvent.objects.filter(customer=ada, purpose="contact").count() == 1


def test_marketing_switched_off_before_it_was_due_is_not_sent_and_says_so(smtp, ada, northwind):
    ContactPreferenceFactory(
        customer=ada, brand=northwind.brand, best_hour_override=9, time_zone="UTC"
    )
    with freeze_time("2026-06-10 12:00:00"):
        _send(northwind, category="marketing")
        purpose_set_granted(customer=ada, purpose="contact", granted=False)
    with freeze_time("2026-06-11 09:00:01"):
        result = messages_dispatch()

    assert result.suppressed == 1 and smtp.mails == []
    row = Message.objects.get()
    assert row.state == "suppressed"
    assert row.outcome == "Not sent: you switched off “Contacting you” before it was due."


def test_nothing_is_sent_before_it_is_due(smtp, ada, northwind):
    ContactPreferenceFactory(
        customer=ada, quiet_start=time(0), quiet_end=time(23, 59), time_zone="UTC"
    )
    _send(northwind)

    assert messages_dispatch().sent == 0
    assert Message.objects.get().state == "scheduled"


def test_erasure_cancels_scheduled_messages(smtp, ada, northwind):
    ContactPreferenceFactory(
        customer=ada, quiet_start=time(0), quiet_end=time(23, 59), time_zone="UTC"
    )
    _send(northwind)

    account_erase(customer=ada)
    with freeze_time(timezone.now() + timedelta(days=2)):
        result = messages_dispatch()

    assert result.sent == 0 and smtp.mails == []
    assert not Message.objects.exists()
    # Messages for the erased reference are dropped, and the brand is told so.
    assert _send(northwind, external_id="m-9").dropped == 1


def test_sms_and_post_go_through_their_gateways(ada, northwind, settings):
    PersonalFactFactory(customer=ada, field="phone", value="+44 20 7946 0958")
    ContactPreferenceFactory(customer=ada, brand=northwind.brand, channel="sms")
    _send(northwind)
    assert messages_dispatch().sent == 1
    ContactPreference.objects.filter(customer=ada).update(channel="post")
    AddressFactory(customer=ada, recipient="Ada Lovelace", is_default=True)
    _send(northwind, external_id="m-2")
    assert messages_dispatch().sent == 1

    folder = settings.VAR_DIR / "messages"
    sms = [json.loads(line) for line in (folder / "sms.jsonl").read_text().splitlines()]
    post = [json.loads(line) for line in (folder / "post.jsonl").read_text().splitlines()]
    ids = {str(m.public_id): m.external_id for m in Message.objects.all()}
    assert any(ids.get(s["message"]) == "m-1" and s["to"] == "+44 20 7946 0958" for s in sms)
    assert any(ids.get(p["message"]) == "m-2" and p["to"].startswith("Ada Lovelace") for p in post)


def test_a_claim_whose_worker_died_is_taken_again_and_sent_once(smtp, ada, northwind):
    from django.urls import reverse

    from ledger.messages import dispatch

    reverse("dashboard:messages")  # the URLconf's API schemas load outside the frozen clock
    _send(northwind)
    claimed = dispatch._claim(10, timezone.now())  # a worker claims, then dies
    assert len(claimed) == 1 and messages_dispatch().sent == 0  # its lease holds

    with freeze_time(timezone.now() + dispatch.LEASE + timedelta(seconds=1)):
        assert messages_dispatch().sent == 1
        assert messages_dispatch().sent == 0

    assert len(smtp.mails) == 1
