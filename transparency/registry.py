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
