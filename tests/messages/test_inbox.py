"""The dashboard's Messages page, the per-brand marketing choice, and Messages as a data
kind (shown, exported, deleted)."""

import json

from django.urls import reverse

from accounts.models import ConsentEvent, WebhookDelivery
from ledger.models import ContactPreference, Message
from tests.factories import MessageFactory
from transparency import services as transparency_services


def test_the_page_lists_every_message_with_its_reasons_in_few_queries(
    alice_client, ada, northwind, django_assert_max_num_queries
):
    for _ in range(30):
        MessageFactory(customer=ada, brand=northwind.brand, data_used=["contact_preference"])
    MessageFactory(
        customer=ada,
        brand=northwind.brand,
        state="suppressed",
        subject="Spring sale",
        why_channel="Not sent: you switched off “Contacting you”.",
    )

    with django_assert_max_num_queries(12):
        response = alice_client.get(reverse("dashboard:messages"))

    html = response.content.decode()
    assert response.status_code == 200
    assert "Spring sale" in html and "Not sent: you switched off" in html
    assert "Contact preferences" in html  # the data it used, by the kind's label


def test_another_customers_message_button_is_not_found(alice_client, bob, northwind):
    theirs = MessageFactory(customer=bob, brand=northwind.brand, action_destination="address")

    response = alice_client.get(reverse("dashboard:messages_open", args=[theirs.public_id]))

    assert response.status_code == 404


def test_switching_a_brands_marketing_off_on_the_dashboard_tells_the_brand(
    alice_client, ada, northwind
):
    northwind.endpoint("https://nw.example/hooks")
    brand_id = northwind.brand.pk

    alice_client.post(
        reverse("dashboard:ledger_contact_brand", args=[brand_id]),
        {f"c{brand_id}-channel": "email", f"c{brand_id}-marketing_allowed": "0"},
    )

    assert ContactPreference.objects.get(customer=ada, brand_id=brand_id).marketing_allowed is False
    assert ConsentEvent.objects.filter(customer=ada, purpose="contact", granted=False).exists()
    told = json.loads(WebhookDelivery.objects.get(event_type="consent.changed").payload)
    assert told["data"]["allowed"] is False and told["data"]["scope"] == "brand"


def test_messages_are_deleted_as_a_kind(ada, northwind):
    MessageFactory(customer=ada, brand=northwind.brand)

    transparency_services.data_delete(customer=ada, scope="kind", kind_name="message")

    assert not Message.objects.filter(customer=ada).exists()
