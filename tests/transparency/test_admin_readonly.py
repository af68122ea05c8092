"""Staff and customer data in admin (B4): view only, each look logged, never a silent change.

Customer data changes through audited services only; an admin form or delete button would
change it with no audit row, no cache invalidation and no receipt.
"""

import pyotp
import pytest
from allauth.account.models import EmailAddress
from allauth.mfa.models import Authenticator
from allauth.mfa.totp.internal.auth import TOTP
from allauth.usersessions.models import UserSession
from django.contrib import admin
from django.test import RequestFactory
from django.urls import reverse

from accounts.models import AuditEvent, Customer
from ledger.models import Address
from tests.factories import AddressFactory, BrandFactory, DataRequestFactory, UserFactory
from transparency import registry

pytestmark = pytest.mark.django_db


def _url(obj, view="change"):
    meta = obj._meta
    return reverse(f"admin:{meta.app_label}_{meta.model_name}_{view}", args=[obj.pk])


# Models that hold staff's rows too: a customer's row is read-only, a staff row is not.
SHARED_WITH_STAFF = {"account", "email_address", "mfa_authenticator", "session"}


def _request(user):
    request = RequestFactory().get("/admin/")
    request.user = user
    return request


def test_no_kind_of_customer_data_can_be_added_changed_or_deleted_in_admin(charlie):
    charlie.is_superuser = True
    request = _request(charlie)
    checked = set()
    for kind in registry.all_kinds():
        model_admin = admin.site._registry.get(kind.get_model())
        if model_admin is None or kind.name in SHARED_WITH_STAFF:
            continue
        checked.add(kind.name)
        assert not model_admin.has_add_permission(request), kind.name
        assert not model_admin.has_change_permission(request), kind.name
        assert not model_admin.has_delete_permission(request), kind.name
        assert model_admin.has_view_permission(request), kind.name
        for inline in model_admin.get_inline_instances(request):
            assert not inline.has_change_permission(request), (kind.name, inline)
    assert {"address", "payment_method", "order", "customer_record", "data_request"} <= checked


def test_a_customers_account_email_authenticator_and_session_are_read_only(charlie, alice):
    charlie.is_superuser = True
    request = _request(charlie)
    TOTP.activate(alice.user, pyotp.random_base32())
    TOTP.activate(charlie, pyotp.random_base32())
    EmailAddress.objects.create(user=alice.user, email="alice@example.com")
    UserSession.objects.create(user=alice.user, ip="127.0.0.1", session_key="k" * 32)
    rows = {
        "account": alice.user,
        "email_address": EmailAddress.objects.get(user=alice.user),
        "mfa_authenticator": Authenticator.objects.get(user=alice.user),
        "session": UserSession.objects.get(user=alice.user),
    }
    assert set(rows) == SHARED_WITH_STAFF
    for name, row in rows.items():
        model_admin = admin.site._registry[type(row)]
        assert not model_admin.has_change_permission(request, row), name
        assert not model_admin.has_delete_permission(request, row), name
        assert model_admin.has_view_permission(request, row), name
    staff_mfa = Authenticator.objects.get(user=charlie)
    assert admin.site._registry[Authenticator].has_delete_permission(request, staff_mfa)


def test_a_form_cannot_attach_an_email_address_to_a_customer(staff_client, alice):
    url = reverse("admin:account_emailaddress_add")

    response = staff_client.post(
        url, {"user": alice.user.pk, "email": "planted@example.com", "primary": "on"}
    )

    assert response.status_code == 200  # the form again, with the error
    assert not EmailAddress.objects.filter(email="planted@example.com").exists()


def test_an_edit_posted_to_admin_is_refused_and_changes_nothing(staff_client, alice):
    address = AddressFactory(customer=alice, line1="221B Baker Street")

    response = staff_client.post(_url(address), {"line1": "Somewhere else", "customer": alice.pk})

    assert response.status_code == 403
    address.refresh_from_db()
    assert address.line1 == "221B Baker Street"
    assert staff_client.post(_url(address, "delete"), {"post": "yes"}).status_code == 403
    assert Address.objects.filter(pk=address.pk).exists()


def test_a_customers_account_cannot_be_deleted_from_admin_but_a_staff_account_can(
    staff_client, alice
):
    helper = UserFactory(username="helper", is_staff=True)

    refused = staff_client.post(_url(alice.user, "delete"), {"post": "yes"})
    removed = staff_client.post(_url(helper, "delete"), {"post": "yes"})

    assert refused.status_code == 403
    assert Customer.objects.filter(pk=alice.pk).exists()
    assert removed.status_code == 302
    assert not type(helper).objects.filter(pk=helper.pk).exists()


def test_a_brand_with_customer_data_under_it_cannot_be_deleted_from_admin(staff_client, alice):
    brand = BrandFactory()
    AddressFactory(customer=alice, brand=brand)

    response = staff_client.post(_url(brand, "delete"), {"post": "yes"})

    assert response.status_code == 403
    assert Address.objects.filter(brand=brand).exists()


def test_looking_at_a_customers_account_record_or_requests_is_logged_for_them(
    staff_client, alice, charlie
):
    request = DataRequestFactory(customer=alice)

    for obj in (alice.user, alice, request):
        assert staff_client.get(_url(obj)).status_code == 200

    seen = set(
        AuditEvent.objects.filter(customer=alice, action="view", actor_kind="staff").values_list(
            "data_kind", "object_ref"
        )
    )
    assert seen == {
        ("account", str(alice.user.pk)),
        ("customer_record", str(alice.pk)),
        ("data_request", str(request.pk)),
    }


def test_a_staff_account_is_edited_as_usual_and_its_views_are_not_logged(staff_client, charlie):
    helper = UserFactory(username="helper", is_staff=True)

    page = staff_client.get(_url(helper))

    assert page.status_code == 200
    assert 'name="_save"' in page.content.decode()
    assert not AuditEvent.objects.filter(action="view").exists()
