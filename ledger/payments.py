"""The payment gateway seam: a card number goes in, a processor token comes out.

The number and the security code live only in the request that tokenizes them: they are
never stored, logged or put in an error message. `PAYMENT_GATEWAY` (a dotted path) picks
the implementation; `LocalTestGateway` validates and returns a random token, for
development and tests.
"""

from __future__ import annotations

import secrets
import string
from dataclasses import dataclass
from datetime import date
from typing import Protocol

from django.conf import settings
from django.utils.module_loading import import_string

DEFAULT_GATEWAY = "ledger.payments.LocalTestGateway"


@dataclass(frozen=True)
class CardToken:
    token: str
    brand: str
    last4: str
    exp_month: int
    exp_year: int


class CardError(ValueError):
    """A card the gateway refuses. `field` names the form field; the message is safe to show."""

    def __init__(self, field: str, message: str):
        super().__init__(message)
        self.field = field
        self.message = message


class PaymentGateway(Protocol):
    name: str

    def tokenize(self, number: str, exp_month: int, exp_year: int, cvc: str) -> CardToken: ...


def digits_only(value: str) -> str:
    return "".join(ch for ch in value if ch not in " -")


def luhn_valid(digits: str) -> bool:
    if not digits.isdigit():
        return False
    total = 0
    for i, ch in enumerate(reversed(digits)):
        d = int(ch)
        if i % 2 == 1:
            d *= 2
            if d > 9:
                d -= 9
        total += d
    return total % 10 == 0


def card_brand(digits: str) -> str:
    if digits.startswith("4"):
        return "visa"
    if digits[:2] in {"34", "37"}:
        return "amex"
    if 51 <= int(digits[:2]) <= 55 or 2221 <= int(digits[:4]) <= 2720:
        return "mastercard"
    if digits.startswith(("6011", "65")):
        return "discover"
    return "card"


# Letters only: a token can never look like a card number to a Luhn scan.
_TOKEN_ALPHABET = string.ascii_letters


class LocalTestGateway:
    """Checks the card like a processor would (Luhn, expiry, CVC format); stores nothing."""

    name = "local-test"

    def tokenize(self, number: str, exp_month: int, exp_year: int, cvc: str) -> CardToken:
        digits = digits_only(number or "")
        if not (13 <= len(digits) <= 19) or not luhn_valid(digits):
            raise CardError("number", "This card number is not valid.")
        if not 1 <= int(exp_month) <= 12:
            raise CardError("exp_month", "Enter a month from 1 to 12.")
        today = date.today()
        if (int(exp_year), int(exp_month)) < (today.year, today.month):
            raise CardError("exp_year", "This card has expired.")
        if int(exp_year) > today.year + 25:
            raise CardError("exp_year", "Enter a real expiry year.")
        brand = card_brand(digits)
        cvc_len = 4 if brand == "amex" else 3
        if not (cvc or "").isdigit() or len(cvc) != cvc_len:
            raise CardError("cvc", f"Enter the {cvc_len}-digit security code.")
        token = "tok_" + "".join(secrets.choice(_TOKEN_ALPHABET) for _ in range(24))
        return CardToken(
            token=token,
            brand=brand,
            last4=digits[-4:],
            exp_month=int(exp_month),
            exp_year=int(exp_year),
        )


def get_gateway() -> PaymentGateway:
    return import_string(getattr(settings, "PAYMENT_GATEWAY", DEFAULT_GATEWAY))()
