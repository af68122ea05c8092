"""Delivery channels. Email goes through Django's email backend (EMAIL_URL: SMTP in
production); SMS and post through a small `Gateway` interface chosen in settings, whose
local implementation appends one JSON line per message to var/messages/<channel>.jsonl
(the "provider" a test or a developer reads). A gateway says per message whether it was
accepted; nothing here logs an address, a number or a text.
"""

from __future__ import annotations

import json
import threading
from dataclasses import dataclass, field
from typing import Protocol

from django.conf import settings
from django.core.mail import EmailMultiAlternatives, get_connection
from django.utils.module_loading import import_string


@dataclass
class Outgoing:
    message_id: str  # the message's public id
    to: str  # an email address, a phone number, or postal lines joined by newlines
    subject: str
    text: str
    html: str = ""
    headers: dict[str, str] = field(default_factory=dict)


class Gateway(Protocol):
    channel: str

    def send(self, batch: list[Outgoing]) -> list[bool]:
        """One result per item, in order: True when the provider accepted it."""
        ...


class EmailGateway:
    """Multipart text + HTML through Django's configured backend, one connection a batch."""

    channel = "email"

    def send(self, batch: list[Outgoing]) -> list[bool]:
        results = []
        connection = get_connection(fail_silently=False)
        try:
            connection.open()
            for item in batch:
                mail = EmailMultiAlternatives(
                    subject=item.subject,
                    body=item.text,
                    to=[item.to],
                    headers=item.headers,
                    connection=connection,
                )
                if item.html:
                    mail.attach_alternative(item.html, "text/html")
                try:
                    results.append(mail.send() == 1)
                except Exception:  # one refused recipient must not fail the batch
                    results.append(False)
        finally:
            connection.close()
        return results


_file_lock = threading.Lock()


class FileGateway:
    """The local SMS / post provider: one JSON line per accepted message."""

    def __init__(self, channel: str):
        self.channel = channel

    def send(self, batch: list[Outgoing]) -> list[bool]:
        folder = settings.VAR_DIR / "messages"
        folder.mkdir(parents=True, exist_ok=True)
        lines = [
            json.dumps({"message": i.message_id, "to": i.to, "subject": i.subject, "text": i.text})
            for i in batch
        ]
        with _file_lock, open(folder / f"{self.channel}.jsonl", "a", encoding="utf-8") as out:
            out.write("".join(line + "\n" for line in lines))
        return [True] * len(batch)


def gateway_for(channel: str) -> Gateway:
    if channel == "email":
        return EmailGateway()
    path = {"sms": settings.MESSAGES_SMS_GATEWAY, "post": settings.MESSAGES_POST_GATEWAY}[channel]
    return import_string(path)(channel)
