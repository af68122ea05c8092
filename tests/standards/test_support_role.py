"""Least-privilege staff (B4): the support role sees personal fields masked; a reveal needs a
typed reason, is logged, and the customer reads it in their access log."""

import pyotp
import pytest
from allauth.mfa.totp.internal.auth import TOTP
from django.contrib.auth.models import Group, Permission
from django.core.management import call_command
from django.urls import reverse

from accounts.models import AuditEvent
from tests.factories import AddressFactory, PersonalFactFactory, UserFactory
from transparency import registry, selectors
from transparency.standards import masking


@pytest.fixture
def support_client(client, db):
    """dora: staff in the Support group, with TOTP, signed in."""
    call_command("support_role")
    dora = UserFactory(username="dora")
    dora.is_staff = True
    dora.save()
    dora.groups.add(Group.objects.get(name="Support"))
    TOTP.activate(dora, pyotp.random_base32())
    client.force_login(dora)
    return client


def _change(obj):
    return reverse(f"admin:ledger_{obj._meta.model_name}_change", args=[obj.pk])


def test_personal_fields_come_from_the_registry():
    assert set(masking.personal_fields(registry.get("address"))) >= {
        "recipient",
        "line1",
        "postal_code",
        "city",
    }
    # the brand's differing value, kept beside the customer's correction, is personal too
    assert masking.personal_fields(registry.get("personal_fact")) == ["brand_sent_value", "value"]
    assert "processor_token" not in masking.personal_fields(registry.get("payment_method"))
    assert masking.personal_fields(registry.get("access_log")) == []


def test_support_sees_the_record_with_personal_fields_masked(support_client, alice):
    address = AddressFactory(customer=alice, line1="221B Baker Street", city="London")

    page = support_client.get(_change(address)).content.decode()
    listing = support_client.get(reverse("admin:ledger_address_changelist")).content.decode()

    assert "221B Baker Street" not in page and "London" not in page
    assert (
        "•••••" in page and reverse("field_reveal", args=["address", address.pk, "line1"]) in page
    )
    assert "London" not in listing
    # Seeing the masked record is still a logged view.
    assert AuditEvent.objects.filter(customer=alice, action="view").count() == 1


def test_staff_with_the_unmasked_permission_see_everything(staff_client, alice):
    address = AddressFactory(customer=alice, line1="221B Baker Street")

    assert "221B Baker Street" in staff_client.get(_change(address)).content.decode()


def test_a_reveal_needs_a_typed_reason(support_client, alice):
    fact = PersonalFactFactory(customer=alice, field="phone", value="+44 20 7946 0000")
    url = reverse("field_reveal", args=["personal_fact", fact.pk, "value"])

    form = support_client.get(url).content.decode()
    refused = support_client.post(url, {"reason": "because"}).content.decode()

    assert "+44 20 7946 0000" not in form and "+44 20 7946 0000" not in refused
    assert not AuditEvent.objects.filter(customer=alice, action="reveal").exists()


def test_a_reveal_is_logged_and_the_customer_reads_the_reason(support_client, alice, bob):
    fact = PersonalFactFactory(customer=alice, field="phone", value="+44 20 7946 0000")
    url = reverse("field_reveal", args=["personal_fact", fact.pk, "value"])

    shown = support_client.post(url, {"reason": "Customer called to confirm their number"})

    assert "+44 20 7946 0000" in shown.content.decode()
    entry = AuditEvent.objects.get(customer=alice, action="reveal")
    assert entry.actor_label == "dora" and "Customer called to confirm" in entry.reason
    sentence = selectors.access_sentence(entry)
    assert sentence.startswith("Staff member dora unmasked")
    assert "Customer called to confirm their number" in sentence
    assert not AuditEvent.objects.filter(customer=bob, action="reveal").exists()


def test_the_support_role_never_holds_the_unmasked_permission(support_client):
    perms = Group.objects.get(name="Support").permissions
    assert not perms.filter(codename="view_unmasked").exists()
    assert perms.filter(codename="view_address").exists()
    assert not perms.exclude(codename__startswith="view_").exists()
    assert Permission.objects.filter(codename="view_unmasked").exists()


def test_customers_cannot_reveal(alice_client, alice):
    fact = PersonalFactFactory(customer=alice, field="phone", value="+44")
    url = reverse("field_reveal", args=["personal_fact", fact.pk, "value"])

    assert alice_client.post(url, {"reason": "I am curious about it"}).status_code == 302
    assert not AuditEvent.objects.filter(action="reveal").exists()
