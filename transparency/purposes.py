"""Purposes as the customer sees them: each one's state (their choice, else the stricter
default of their brands' profiles), what it covers and its legal footing."""

from __future__ import annotations

from accounts import profiles
from accounts.models import Customer, CustomerBrand, PurposeConsent, Sensitivity

from . import registry


def purpose_default(*, sensitivities: set[str], purpose: str) -> bool:
    """Off if any of the customer's brands' profiles starts it off (the stricter wins)."""
    sensitivities = sensitivities or {Sensitivity.RETAIL}
    return all(profiles.purpose_default(s, purpose) for s in sensitivities)


def purposes_state(*, customer: Customer) -> list[dict]:
    explicit = dict(
        PurposeConsent.objects.filter(customer=customer).values_list("purpose", "granted")
    )
    sensitivities = set(
        CustomerBrand.objects.filter(customer=customer).values_list("brand__sensitivity", flat=True)
    )
    return purpose_rows(explicit, sensitivities)


def purpose_rows(explicit: dict, sensitivities: set[str]) -> list[dict]:
    """The purposes with a switch of their own on My data, with their state."""
    kinds = registry.all_kinds()
    rows = []
    for purpose in registry.OWN_SWITCH_PURPOSES:
        default = purpose_default(sensitivities=sensitivities, purpose=purpose.value)
        rows.append(
            {
                "purpose": purpose.value,
                "label": purpose.label,
                "granted": explicit.get(purpose.value, default),
                "is_default": purpose.value not in explicit,
                "kinds": [k.label for k in kinds if purpose in k.purposes],
                "legal": registry.purpose_legal(purpose.value),
            }
        )
    return rows


def purposes_without_switch() -> list[dict]:
    """Purposes that are not on/off switches on My data: the ones with no switch by law or
    contract (why, and what to do instead), and checkout, switched kind by kind."""
    return [
        registry.purpose_legal(p.value)
        for p in registry.Purpose
        if p not in registry.OWN_SWITCH_PURPOSES
    ]


def purpose_granted(*, customer: Customer, purpose: str) -> bool:
    for row in purposes_state(customer=customer):
        if row["purpose"] == purpose:
            return row["granted"]
    raise KeyError(purpose)
