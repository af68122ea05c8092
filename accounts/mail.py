"""Mail that is not sent: one log line per message, with no recipient and no body.

Django's console backend prints whole messages (the address, the username in the text) to
stdout, around the masking log filter (config.logging). `consolemail://`, the development
default, is mapped to this backend instead (settings), so its line goes through that
filter like any other. In development (DEBUG) the line also lists the message's links, so
a developer can follow a verification link; they carry signed keys, never an address or a
name. The production profile uses it only when told to (ALLOW_CONSOLE_EMAIL=1).
"""

import logging
import re

from django.conf import settings
from django.core.mail.backends.base import BaseEmailBackend

log = logging.getLogger(__name__)
_LINK = re.compile(r"https?://[^\s<>\"']+")


class LogBackend(BaseEmailBackend):
    def send_messages(self, email_messages) -> int:
        for message in email_messages:
            links = sorted(set(_LINK.findall(message.body))) if settings.DEBUG else []
            log.info(
                "mail not sent (no mail server configured): %r to %d recipient(s)%s",
                message.subject,
                len(message.recipients()),
                f"; links: {' '.join(links)}" if links else "",
            )
        return len(email_messages)
