"""Forms for the ledger pages: validate, with clear field errors; services do the writing."""

from __future__ import annotations

import re
from datetime import date
from zoneinfo import available_timezones

from django import forms
from django.core.exceptions import ValidationError

from accounts.models import Brand

from .models import Address, Channel, EventKind
from .payments import CardError, CardToken, get_gateway

PHONE_RE = re.compile(r"^\+?[0-9][0-9 ]*$")


class ProfileForm(forms.Form):
    legal_name = forms.CharField(label="Legal name", max_length=200, required=False)
    birthday = forms.DateField(
        label="Birthday",
        required=False,
        # The browser's date picker shows its own format; a hint here would contradict it.
        widget=forms.DateInput(attrs={"type": "date", "autocomplete": "bday"}),
    )
    phone = forms.CharField(
        label="Phone",
        max_length=25,
        required=False,
        widget=forms.TextInput(attrs={"type": "tel", "autocomplete": "tel"}),
        help_text="Digits, spaces and a leading +, e.g. +44 20 7946 0958",
    )
    email = forms.EmailField(label="Contact email", required=False)

    def clean_birthday(self):
        value = self.cleaned_data["birthday"]
        if value and value > date.today():
            raise ValidationError("A birthday cannot be in the future.")
        if value and value.year < 1900:
            raise ValidationError("Enter a year from 1900 on.")
        return value

    def clean_phone(self):
        value = " ".join(self.cleaned_data["phone"].split())
        if not value:
            return ""
        digits = sum(ch.isdigit() for ch in value)
        if not PHONE_RE.match(value) or not 7 <= digits <= 15:
            raise ValidationError(
                "Enter a phone number of 7 to 15 digits, with spaces and a leading + if you like."
            )
        return value

    def fact_values(self) -> dict[str, str]:
        data = self.cleaned_data
        return {
            "legal_name": data["legal_name"].strip(),
            "birthday": data["birthday"].isoformat() if data["birthday"] else "",
            "phone": data["phone"],
            "email": data["email"],
        }


class AddressForm(forms.ModelForm):
    class Meta:
        model = Address
        fields = ["label", "recipient", "line1", "line2", "city", "postal_code", "country"]
        labels = {
            "label": "Label (e.g. Home)",
            "recipient": "Recipient",
            "line1": "Address line 1",
            "line2": "Address line 2",
            "postal_code": "Postal code",
            "country": "Country code",
        }
        help_texts = {"country": "Two letters, e.g. GB"}
        widgets = {
            "label": forms.TextInput(),
            "recipient": forms.TextInput(attrs={"autocomplete": "name"}),
            "line1": forms.TextInput(attrs={"autocomplete": "address-line1"}),
            "line2": forms.TextInput(attrs={"autocomplete": "address-line2"}),
            "city": forms.TextInput(attrs={"autocomplete": "address-level2"}),
            "postal_code": forms.TextInput(attrs={"autocomplete": "postal-code"}),
            "country": forms.TextInput(attrs={"autocomplete": "country", "maxlength": 2}),
        }

    def clean_label(self):
        return _line(self.cleaned_data["label"], 40)

    def clean_city(self):
        return _required_line(self.cleaned_data["city"], 100)

    def clean_recipient(self):
        return _required_line(self.cleaned_data["recipient"], 200)

    def clean_line1(self):
        return _required_line(self.cleaned_data["line1"], 200)

    def clean_line2(self):
        return _line(self.cleaned_data["line2"], 200)

    def clean_postal_code(self):
        return _required_line(self.cleaned_data["postal_code"], 20)

    def clean_country(self):
        value = self.cleaned_data["country"].strip().upper()
        if not re.fullmatch(r"[A-Z]{2}", value):
            raise ValidationError("Enter a two-letter country code, e.g. GB.")
        return value

    def address_values(self) -> dict[str, str]:
        return {k: self.cleaned_data[k] for k in self.Meta.fields}


def _line(value: str, limit: int) -> str:
    value = " ".join((value or "").split())
    if len(value) > limit:
        raise ValidationError(f"Keep this under {limit} characters.")
    return value


def _required_line(value: str, limit: int) -> str:
    value = _line(value, limit)
    if not value:
        raise ValidationError("This field is required.")
    return value


class NoEchoTextInput(forms.TextInput):
    """A text input that never renders its value back (card number, CVC)."""

    def format_value(self, value):
        return None


class PaymentMethodForm(forms.Form):
    """Takes a card, hands it to the gateway, keeps only the token.

    The number and CVC are dropped from `cleaned_data` once tokenized, never rendered back,
    and error messages never quote them.
    """

    number = forms.CharField(
        label="Card number",
        max_length=23,
        widget=NoEchoTextInput(
            attrs={"autocomplete": "cc-number", "inputmode": "numeric", "spellcheck": "false"}
        ),
        error_messages={"max_length": "This card number is not valid."},
    )
    exp_month = forms.IntegerField(label="Expiry month", min_value=1, max_value=12)
    exp_year = forms.IntegerField(label="Expiry year", min_value=2000, max_value=2100)
    cvc = forms.CharField(
        label="Security code (CVC)",
        max_length=4,
        widget=NoEchoTextInput(attrs={"autocomplete": "cc-csc", "inputmode": "numeric"}),
        error_messages={"max_length": "Enter the 3- or 4-digit security code."},
    )

    def __init__(self, *args, gateway=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.gateway = gateway
        self.card: CardToken | None = None

    def clean(self):
        data = super().clean()
        number = data.pop("number", None)
        cvc = data.pop("cvc", None)
        if number is None or cvc is None or self.errors:
            return data
        try:
            gateway = self.gateway or get_gateway()
            self.card = gateway.tokenize(number, data["exp_month"], data["exp_year"], cvc)
        except CardError as exc:
            self.add_error(exc.field, exc.message)
        return data


class ContactPreferenceForm(forms.Form):
    channel = forms.ChoiceField(label="How to reach you", choices=Channel.choices)
    quiet_start = forms.TimeField(
        label="Quiet hours from",
        required=False,
        widget=forms.TimeInput(attrs={"type": "time"}, format="%H:%M"),
    )
    quiet_end = forms.TimeField(
        label="Quiet hours until",
        required=False,
        widget=forms.TimeInput(attrs={"type": "time"}, format="%H:%M"),
    )
    best_hour_override = forms.IntegerField(
        label="Best hour to reach you (0–23)",
        required=False,
        min_value=0,
        max_value=23,
        help_text="Leave empty to let us learn it.",
    )
    time_zone = forms.CharField(
        label="Your time zone",
        max_length=64,
        required=False,
        help_text="The hours above are in it, e.g. Europe/London. Empty: the brand's.",
    )
    # Radios, not a checkbox: a form without the field leaves the choice as it is.
    marketing_allowed = forms.TypedChoiceField(
        label="Marketing messages (“Contacting you”)",
        choices=[("1", "Allowed"), ("0", "Not allowed")],
        coerce=lambda v: v == "1",
        empty_value=None,
        required=False,
        widget=forms.RadioSelect,
        help_text="Messages about your account, orders or data reach you either way.",
    )

    def clean_time_zone(self):
        value = self.cleaned_data["time_zone"].strip()
        if value and value not in available_timezones():
            raise ValidationError(
                "Enter a time zone name such as Europe/London or America/New_York."
            )
        return value

    def clean(self):
        data = super().clean()
        start, end = data.get("quiet_start"), data.get("quiet_end")
        if (start is None) != (end is None) and not self.errors:
            raise ValidationError("Give both ends of your quiet hours, or neither.")
        if start is not None and start == end:
            raise ValidationError("Quiet hours need a different start and end.")
        return data


class GiftForm(forms.Form):
    is_gift = forms.TypedChoiceField(
        choices=[("1", "gift"), ("0", "not a gift")], coerce=lambda v: v == "1"
    )
    page = forms.IntegerField(required=False, min_value=1)


class ActivityFilterForm(forms.Form):
    """GET filters; an invalid value is dropped, never an error page."""

    brand = forms.ModelChoiceField(queryset=Brand.objects.none(), required=False)
    kind = forms.ChoiceField(choices=[("", "All kinds"), *EventKind.choices], required=False)

    def __init__(self, *args, brands, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["brand"].queryset = brands
        self.fields["brand"].empty_label = "All brands"

    def filters(self) -> dict:
        self.is_valid()
        data = getattr(self, "cleaned_data", {})
        return {"brand": data.get("brand"), "kind": data.get("kind") or None}


def focus_field(form: forms.BaseForm, name: str | None) -> None:
    """The field a message's button leads to (`?focus=`): focused and highlighted on load,
    with no script (the `autofocus` attribute)."""
    if name and name in form.fields:
        attrs = form.fields[name].widget.attrs
        attrs["autofocus"] = True
        attrs["class"] = f"{attrs.get('class', '')} focus-target".strip()
