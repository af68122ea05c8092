"""Industry thresholds: a brand's sensitivity profile sets defaults.

Which purposes start switched off for a new customer of the brand, and how long each data
kind is kept (days; None = while the account exists). Transparency renders these into the
published statement, so they are configuration, not prose.
"""

from .models import Purpose, Sensitivity

PROFILES: dict[str, dict] = {
    Sensitivity.RETAIL: {
        "purposes_off": {Purpose.THIRD_PARTY, Purpose.CROSS_BRAND},
        "retention_days": {
            "event": 365,
            "order": 365 * 7,
            "session": 90,
            "partner_attribute": 365,
        },
    },
    Sensitivity.BANKING: {
        "purposes_off": {
            Purpose.THIRD_PARTY,
            Purpose.CROSS_BRAND,
            Purpose.PERSONALIZATION,
            Purpose.CONTACT,
        },
        "retention_days": {
            "event": 90,
            "order": 365 * 10,
            "session": 30,
            "partner_attribute": 90,
        },
    },
}


def purpose_default(sensitivity: str, purpose: str) -> bool:
    return purpose not in PROFILES[sensitivity]["purposes_off"]


def retention_days(sensitivity: str, kind: str, fallback: int | None) -> int | None:
    return PROFILES[sensitivity]["retention_days"].get(kind, fallback)
