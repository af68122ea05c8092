"""C1/H1: log lines carry no personal data (emails, tokens, keys, card-like numbers)."""

import io
import logging

import pytest
from django.conf import settings

from config.logging import PersonalDataFilter

JWT = (
    "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9."
    "eyJzdWIiOiJjdXN0LTEyMyIsImV4cCI6MTcwMDAwMDAwMH0."
    "c2lnbmF0dXJlLXNpZ25hdHVyZS1zaWduYXR1cmU"
)
SERVER_KEY = "sk_1a2b3c4d5e6f_Zm9vYmFyYmF6cXV4cXV1eHF1dXhxdXV4cXV1eA"
WIDGET_KEY = "pk_live_9f8e7d6c5b4a"


@pytest.fixture
def emit():
    """Format one record through a handler carrying the filter, as settings.LOGGING does."""
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.addFilter(PersonalDataFilter())
    handler.setFormatter(logging.Formatter("%(levelname)s %(message)s"))
    logger = logging.getLogger("tests.production.logging_filter")
    logger.addHandler(handler)
    logger.propagate = False
    logger.setLevel(logging.DEBUG)

    def _emit(msg, *args, **kwargs):
        stream.seek(0)
        stream.truncate()
        logger.info(msg, *args, **kwargs)
        return stream.getvalue()

    yield _emit
    logger.removeHandler(handler)
    logger.propagate = True


@pytest.mark.parametrize(
    ("secret", "placeholder"),
    [
        ("ada.lovelace+shop@example.co.uk", "[email]"),
        (f"Bearer {SERVER_KEY}", "Bearer [token]"),
        (JWT, "[jwt]"),
        (SERVER_KEY, "sk_[key]"),
        (WIDGET_KEY, "pk_[key]"),
        ("4111111111111111", "[number]"),
        ("4111 1111 1111 1111", "[number]"),
        ("4111-1111-1111-1111", "[number]"),
        ("378282246310005", "[number]"),
        ("6011000990139424123", "[number]"),
        ("password=hunter2-correct", "password=[redacted]"),
    ],
)
def test_it_masks_personal_data_in_the_message_and_its_args(emit, secret, placeholder):
    inline = emit(f"customer said {secret} at checkout")
    via_args = emit("customer said %s at checkout", secret)
    via_dict = emit("customer said %(value)s at checkout", {"value": secret})

    for line in (inline, via_args, via_dict):
        assert secret not in line
        assert line == f"INFO customer said {placeholder} at checkout\n"


def test_it_masks_exception_text(emit):
    try:
        raise ValueError("card 4111111111111111 declined for bob@example.com")
    except ValueError:
        line = emit("payment failed", exc_info=True)

    assert "4111111111111111" not in line
    assert "bob@example.com" not in line
    assert "card [number] declined for [email]" in line


@pytest.mark.parametrize(
    "text",
    [
        "GET /me/orders/42/ 200 in 12ms",
        "order 1234 shipped in 3 days, 2 items, total 59.90",
        "training run 7 finished: rmse=0.934 over 100000 ratings",
        "status code: 503, retrying in 2 s",
        "token expired for session 8c1f; asking the customer to sign in again",
        "timestamp 2026-11-02T10:15:30Z, 1700000000 seconds since the epoch",
        "basic information page viewed",
    ],
)
def test_it_leaves_ordinary_text_alone(emit, text):
    assert emit(text) == f"INFO {text}\n"
    assert emit("%s", text) == f"INFO {text}\n"


def test_it_is_attached_to_the_root_handler():
    handler_names = settings.LOGGING["root"]["handlers"]
    filters = settings.LOGGING["filters"]
    for name in handler_names:
        names = settings.LOGGING["handlers"][name].get("filters", [])
        assert any(filters[f]["()"] == "config.logging.PersonalDataFilter" for f in names)
    root_filters = [f for h in logging.getLogger().handlers for f in h.filters]
    assert any(isinstance(f, PersonalDataFilter) for f in root_filters)
