"""The message's button: signed, single-use, never signs anyone in, leads to the field
(focused and highlighted); for a record nobody can sign in to, it is the connect link.
The fix reaches the brand as `data.updated` (kind and reference, no values)."""

import json
import re

from accounts.models import WebhookDelivery
from ledger.messages import links
from ledger.messages.api import MessageIn
from ledger.messages.dispatch import messages_dispatch
from ledger.messages.services import messages_create
from ledger.models import Message
from tests.factories import AddressFactory

from .conftest import message


def _button(smtp) -> str:
    text = smtp.mails[-1].get_body(("plain",)).get_content()
    return re.search(r"http://127\.0\.0\.1:8000(/m/\S+/)", text).group(1)


def _send(northwind, **overrides):
    messages_create(brand=northwind.brand, items=[MessageIn(**message(**overrides))])
    messages_dispatch()


def test_the_button_opens_the_address_form_focused_for_the_signed_in_customer(
    smtp, ada, northwind, client, password
):
    address = AddressFactory(customer=ada, is_default=True)
    _send(northwind)
    client.login(username=ada.user.username, password=password)

    response = client.get(_button(smtp), follow=True)

    assert response.redirect_chain[-1][0] == f"/me/saved/addresses/{address.pk}/edit/?focus=line1"
    html = response.content.decode()
    assert re.search(r'<input[^>]*name="line1"[^>]*autofocus', html)
    assert re.search(r'<input[^>]*name="line1"[^>]*class="focus-target"', html)


def test_the_button_never_signs_anyone_in(smtp, ada, northwind, client):
    _send(northwind)

    response = client.get(_button(smtp), follow=True)

    assert response.redirect_chain[-1][0].startswith("/accounts/login/")
    assert "_auth_user_id" not in client.session


def test_the_button_works_once(smtp, ada, northwind, client):
    _send(northwind)
    url = _button(smtp)
    client.get(url)

    again = client.get(url)

    assert again.status_code == 400 and b"already used" in again.content


def test_a_tampered_or_foreign_token_is_refused(smtp, ada, northwind, client):
    _send(northwind)
    url = _button(smtp)

    assert client.get(url[:-6] + "xxxxx/").status_code == 400
    unsubscribe = links.unsubscribe_token(Message.objects.get())
    assert client.get(f"/m/{unsubscribe}/").status_code == 400  # another audience


def test_for_a_record_without_a_login_the_button_is_the_connect_link(smtp, northwind, client):
    from tests.factories import PersonalFactFactory

    shell = northwind.shell("nw-shell", orders=0, events=0)
    PersonalFactFactory(customer=shell, field="email", value="shell@example.org")
    _send(northwind, customer_ref="nw-shell")

    response = client.get(_button(smtp))

    assert response.status_code == 302 and response["Location"].startswith("/link/?token=")


def test_fixing_the_address_tells_the_brand_data_updated_without_values(
    ada, northwind, alice_client
):
    northwind.endpoint("https://nw.example/hooks")
    address = AddressFactory(customer=ada, is_default=True)

    alice_client.post(
        f"/me/saved/addresses/{address.pk}/edit/",
        {
            "label": "Home",
            "recipient": "Ada Lovelace",
            "line1": "12 Corrected Road",
            "city": "London",
            "postal_code": "N1 9GU",
            "country": "GB",
        },
    )

    (delivery,) = WebhookDelivery.objects.filter(event_type="data.updated")
    body = json.loads(delivery.payload)
    assert body["data"]["customer_ref"] == "nw-ada" and body["data"]["kind"] == "address"
    assert "Corrected" not in delivery.payload


def test_after_connecting_a_record_the_button_lands_on_the_field(
    smtp, ada, northwind, client, password
):
    from tests.factories import PersonalFactFactory

    shell = northwind.shell("nw-shell-2", orders=0, events=0)
    PersonalFactFactory(customer=shell, field="email", value="shell@example.org")
    _send(northwind, customer_ref="nw-shell-2", action={"label": "Fix", "destination": "phone"})
    other = ada.user  # a Candor account that is not connected to this record yet
    client.login(username=other.username, password=password)
    from accounts.models import CustomerBrand

    CustomerBrand.objects.filter(customer=ada, brand=northwind.brand).delete()

    opened = client.get(_button(smtp), follow=True)
    assert opened.redirect_chain[-1][0] == "/link/confirm/"
    connected = client.post("/link/confirm/")

    assert connected.status_code == 302 and connected["Location"] == "/me/profile/?focus=phone"
