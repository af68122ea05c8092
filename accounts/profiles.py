"""Industry thresholds: a brand's sensitivity profile sets which purposes start switched off
for a new customer of the brand. (How long each kind is kept per profile is declared with the
kind: `retention` in its app's datakinds.py.) Transparency renders these into the published
statement, so they are configuration, not prose.
"""

from .models import Purpose, Sensitivity

PROFILES: dict[str, dict] = {
    Sensitivity.RETAIL: {
        "purposes_off": {Purpose.THIRD_PARTY, Purpose.CROSS_BRAND},
    },
    Sensitivity.BANKING: {
        "purposes_off": {
            Purpose.THIRD_PARTY,
            Purpose.CROSS_BRAND,
            Purpose.PERSONALIZATION,
            Purpose.CONTACT,
        },
    },
}


def purpose_default(sensitivity: str, purpose: str) -> bool:
    return purpose not in PROFILES[sensitivity]["purposes_off"]
