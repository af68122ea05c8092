import pytest
from django.apps import apps
from django.contrib import admin
from django.urls import reverse

from accounts.models import AuditEvent
from tests.factories import (
    AddressFactory,
    EventFactory,
    OrderLineFactory,
    PaymentMethodFactory,
    PersonalFactFactory,
)


def _change_url(obj):
    return reverse(f"admin:ledger_{obj._meta.model_name}_change", args=[obj.pk])


def test_every_ledger_model_is_in_admin():
    for model in apps.get_app_config("ledger").get_models():
        assert admin.site.is_registered(model), model


def test_it_logs_a_staff_view_of_a_customers_data_for_that_customer(staff_client, alice, bob):
    address = AddressFactory(customer=alice, line1="221B Baker Street")

    response = staff_client.get(_change_url(address))

    assert response.status_code == 200
    assert "221B Baker Street" in response.content.decode()
    entry = AuditEvent.objects.get(customer=alice, action="view")
    assert (entry.actor_kind, entry.actor_label, entry.reason, entry.data_kind) == (
        "staff",
        "charlie",
        "admin",
        "address",
    )
    assert entry.object_ref == str(address.pk)
    assert not AuditEvent.objects.filter(customer=bob, action="view").exists()


@pytest.mark.parametrize(
    ("factory", "kind"),
    [
        (PersonalFactFactory, "personal_fact"),
        (PaymentMethodFactory, "payment_method"),
        (EventFactory, "event"),
        (OrderLineFactory, "order_line"),
    ],
)
def test_it_logs_views_of_each_kind_under_its_registry_name(staff_client, alice, factory, kind):
    obj = factory(order__customer=alice) if kind == "order_line" else factory(customer=alice)

    assert staff_client.get(_change_url(obj)).status_code == 200

    assert (
        AuditEvent.objects.filter(
            customer=alice, action="view", data_kind=kind, actor_kind="staff"
        ).count()
        == 1
    )


def test_the_list_shows_no_encrypted_values_and_logs_nothing(staff_client, alice):
    AddressFactory(customer=alice, line1="221B Baker Street", recipient="Sherlock Holmes")
    PersonalFactFactory(customer=alice, value="Ada Lovelace")

    addresses = staff_client.get(reverse("admin:ledger_address_changelist"))
    facts = staff_client.get(reverse("admin:ledger_personalfact_changelist"))
    search = staff_client.get(reverse("admin:ledger_address_changelist"), {"q": "alice"})

    assert addresses.status_code == facts.status_code == search.status_code == 200
    assert "Baker" not in addresses.content.decode()
    assert "Sherlock" not in addresses.content.decode()
    assert "Ada Lovelace" not in facts.content.decode()
    assert not AuditEvent.objects.filter(action="view").exists()


def test_every_ledger_changelist_renders_for_staff(staff_client, alice):
    OrderLineFactory(order__customer=alice)
    EventFactory(customer=alice)
    for model in apps.get_app_config("ledger").get_models():
        url = reverse(f"admin:ledger_{model._meta.model_name}_changelist")
        assert staff_client.get(url).status_code == 200, url


def test_a_customer_cannot_open_the_admin_change_view(client, alice):
    address = AddressFactory(customer=alice)
    client.force_login(alice.user)

    response = client.get(_change_url(address))

    assert response.status_code == 302
    assert not AuditEvent.objects.filter(action="view").exists()
