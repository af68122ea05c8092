"""Every kind of customer data the product holds, declared by the app that holds it.

Each app calls `register(...)` from its `datakinds.py` (imported in `AppConfig.ready`).
The dashboard, export, erasure and retention are all driven from here, so a kind that is
registered is shown, exported and deleted; a test fails on any customer-linked model that
is not. This module imports no app.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum

from django.apps import apps


class Source(StrEnum):
    PROVIDED = "provided"
    OBSERVED = "observed"
    INFERRED = "inferred"
    THIRD_PARTY = "third_party"

    @property
    def label(self) -> str:
        return SOURCE_LABELS[self]


SOURCE_LABELS = {
    Source.PROVIDED: "Provided by you",
    Source.OBSERVED: "Observed from your activity",
    Source.INFERRED: "Inferred by our models",
    Source.THIRD_PARTY: "Received from a partner brand or third party",
}

PURPOSES = {
    "service": "Running your account",
    "security": "Keeping your account safe",
    "accountability": "Showing you who accessed your data",
    "checkout": "Faster checkout",
    "personalization": "Personalized recommendations",
    "contact": "Contacting you",
    "cross_brand": "Sharing across the group's brands",
    "third_party": "Third-party enrichment",
}


class LegalBasis(StrEnum):
    """GDPR Art. 6(1) grounds a purpose rests on."""

    CONSENT = "consent"
    CONTRACT = "contract"
    LEGITIMATE_INTEREST = "legitimate_interest"
    LEGAL_OBLIGATION = "legal_obligation"

    @property
    def label(self) -> str:
        return BASIS_LABELS[self][0]

    @property
    def article(self) -> str:
        return BASIS_LABELS[self][1]


BASIS_LABELS = {
    LegalBasis.CONSENT: ("Your consent", "GDPR Art. 6(1)(a)"),
    LegalBasis.CONTRACT: ("Needed for our contract with you", "GDPR Art. 6(1)(b)"),
    LegalBasis.LEGAL_OBLIGATION: ("Required by law", "GDPR Art. 6(1)(c)"),
    LegalBasis.LEGITIMATE_INTEREST: ("Our legitimate interest", "GDPR Art. 6(1)(f)"),
}

# The right a switch exercises, per basis; None: the purpose has no switch (see INSTEAD).
SWITCH_RIGHTS = {
    LegalBasis.CONSENT: "Switching this off withdraws your consent (GDPR Art. 7(3)); it is "
    "as easy as giving it, and you can give it again at any time.",
    LegalBasis.LEGITIMATE_INTEREST: "Switching this off is your objection (GDPR Art. 21); "
    "we stop, without asking you for reasons.",
    LegalBasis.CONTRACT: None,
    LegalBasis.LEGAL_OBLIGATION: None,
}

# Each purpose's legal basis. Every purpose a customer can switch today rests on consent or
# legitimate interest, so it stays switchable; contract and legal obligation have no switch.
PURPOSE_BASIS = {
    "service": LegalBasis.CONTRACT,
    "security": LegalBasis.LEGAL_OBLIGATION,
    "accountability": LegalBasis.LEGAL_OBLIGATION,
    "checkout": LegalBasis.CONSENT,
    "personalization": LegalBasis.CONSENT,
    "contact": LegalBasis.LEGITIMATE_INTEREST,
    "cross_brand": LegalBasis.CONSENT,
    "third_party": LegalBasis.CONSENT,
}

# Purposes with no switch: why, and what the customer can do instead.
NOT_SWITCHABLE = {
    "service": (
        "Your account cannot run without it: it is what you signed up for.",
        "Delete a saved address or card under Saved details, or close your account.",
    ),
    "security": (
        "The law requires us to keep your account and data secure (GDPR Art. 32).",
        "Sign out other devices or remove a second factor on the Security page.",
    ),
    "accountability": (
        "The law requires us to be able to prove what happened to your data and what you "
        "chose (GDPR Art. 5(2) and 7(1)).",
        "Read it any time in your access log; it goes when you close your account.",
    ),
}


def purpose_basis(purpose: str) -> LegalBasis:
    return PURPOSE_BASIS[purpose]


def purpose_legal(purpose: str) -> dict:
    """Everything the customer is told about one purpose's legal footing."""
    basis = PURPOSE_BASIS[purpose]
    why, instead = NOT_SWITCHABLE.get(purpose, ("", ""))
    return {
        "purpose": purpose,
        "label": PURPOSES[purpose],
        "basis": basis.value,
        "basis_label": basis.label,
        "article": basis.article,
        "switchable": SWITCH_RIGHTS[basis] is not None,
        "right": SWITCH_RIGHTS[basis] or "",
        "why_not_switchable": why,
        "instead": instead,
    }


def legal_bases() -> list[dict]:
    return [purpose_legal(p) for p in PURPOSES]


@dataclass(frozen=True)
class Merge:
    """How a kind's rows join the signed-in customer's when a brand's record is connected
    (transparency.connect). The default moves every row across as it is.

    key: the kind holds at most one row per customer and these fields; a row whose key the
      signed-in customer already has is merged into theirs, never duplicated.
    stricter: (field, value) pairs applied when rows merge: if either side has the value,
      it wins ("off" on either side stays off). Other fields keep the signed-in customer's.
    single: boolean fields that at most one of a customer's rows may have set (a default);
      when the signed-in customer already has one, the moved rows' flag is cleared.
    identity: the record's own sign-in identity (user, customer, credentials, sessions):
      never moved, it goes with the emptied record.
    """

    key: tuple[str, ...] = ()
    stricter: tuple[tuple[str, object], ...] = ()
    single: tuple[str, ...] = ()
    identity: bool = False


MOVE = Merge()
IDENTITY = Merge(identity=True)


@dataclass(frozen=True)
class DataKind:
    """One kind of customer data.

    owner: the lookup from `model` to the Customer ("" when the model is Customer).
    touchpoints: where the product reads this kind (minimal viable data).
    retention_days: None keeps it while the account exists.
    external_id_field: the field holding the brand's own id for a row, told to the brand
      when the customer switches that row off or deletes it (webhooks).
    merge: how rows join another customer's when a brand's record is connected.
    """

    name: str
    label: str
    model: str
    owner: str
    source: Source
    purposes: tuple[str, ...]
    description: str = ""
    sensitivity: str = "low"
    retention_days: int | None = None
    touchpoints: tuple[str, ...] = field(default_factory=tuple)
    brand_field: str | None = None
    created_field: str | None = None
    external_id_field: str | None = None
    merge: Merge = MOVE

    def get_model(self):
        return apps.get_model(self.model)

    def owner_filter(self, customer) -> dict:
        return {"pk": customer.pk} if not self.owner else {self.owner: customer}

    def rows_for(self, customer):
        return self.get_model()._default_manager.filter(**self.owner_filter(customer))


_KINDS: dict[str, DataKind] = {}


def register(*kinds: DataKind) -> None:
    for kind in kinds:
        unknown = set(kind.purposes) - PURPOSES.keys()
        if unknown:
            raise ValueError(f"{kind.name}: unknown purposes {sorted(unknown)}")
        existing = _KINDS.get(kind.name)
        if existing is not None and existing != kind:
            raise ValueError(f"data kind {kind.name!r} registered twice, differently")
        _KINDS[kind.name] = kind


def all_kinds() -> list[DataKind]:
    return list(_KINDS.values())


def get(name: str) -> DataKind:
    return _KINDS[name]


def registered_models() -> set[str]:
    return {kind.model.lower() for kind in _KINDS.values()}
