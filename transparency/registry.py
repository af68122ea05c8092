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


@dataclass(frozen=True)
class DataKind:
    """One kind of customer data.

    owner: the lookup from `model` to the Customer ("" when the model is Customer).
    touchpoints: where the product reads this kind (minimal viable data).
    retention_days: None keeps it while the account exists.
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
