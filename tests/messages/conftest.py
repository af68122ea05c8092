"""Messages tests: a brand (server key, token secret), a real SMTP server on 127.0.0.1
(aiosmtpd) that parses what it receives, and a customer connected to the brand."""

import email
import email.policy
import socket
import threading

import pytest
from aiosmtpd.controller import Controller

from accounts.models import CustomerBrand
from tests.bridge import Brand, Receiver
from tests.factories import PersonalFactFactory


class Inbox:
    """What the SMTP server received, parsed as the recipient's mail client would."""

    def __init__(self):
        self.mails: list[email.message.EmailMessage] = []
        self.envelopes: list[tuple[str, list[str]]] = []
        self.lock = threading.Lock()

    async def handle_DATA(self, server, session, envelope):  # noqa: N802 (aiosmtpd's name)
        mail = email.message_from_bytes(envelope.content, policy=email.policy.default)
        with self.lock:
            self.mails.append(mail)
            self.envelopes.append((envelope.mail_from, list(envelope.rcpt_tos)))
        return "250 OK"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def smtp(settings):
    inbox = Inbox()
    port = _free_port()
    controller = Controller(inbox, hostname="127.0.0.1", port=port)
    controller.start()
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT = "127.0.0.1", port
    settings.EMAIL_USE_TLS = settings.EMAIL_USE_SSL = False
    settings.EMAIL_HOST_USER = settings.EMAIL_HOST_PASSWORD = ""
    yield inbox
    controller.stop()


@pytest.fixture
def northwind(db):
    return Brand()


@pytest.fixture
def receiver():
    server = Receiver()
    yield server
    server.stop()


@pytest.fixture
def ada(alice, northwind):
    """alice, known to Northwind as "nw-ada", with a contact email."""
    CustomerBrand.objects.create(customer=alice, brand=northwind.brand, external_ref="nw-ada")
    PersonalFactFactory(customer=alice, field="email", value="ada@example.org")
    return alice


def message(**overrides) -> dict:
    item = {
        "external_id": "m-1",
        "customer_ref": "nw-ada",
        "category": "service",
        "subject": "Your address on file doesn't match",
        "body": "The address on your last order differs from the one we hold. Please check it.",
        "action": {"label": "Check my address", "destination": "address"},
    }
    item.update(overrides)
    return item
