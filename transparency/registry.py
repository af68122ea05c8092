"""The one vocabulary: every kind of customer data, every purpose, source, touchpoint and
audit action the product knows, declared here or by the app that holds the data.

Each app calls `register(...)` from its `datakinds.py` (imported in `AppConfig.ready`).
The dashboard, export, erasure and retention are all driven from here, so a kind that is
registered is shown, exported and deleted; a test fails on any customer-linked model that
is not. This module imports no app.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

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
# For a model field's `choices` (values stored as they are).
SOURCE_CHOICES = [(s.value, s.label) for s in Source]


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

# The right a switch exercises, per basis; None: the purpose has no switch (see `instead`).
SWITCH_RIGHTS = {
    LegalBasis.CONSENT: "Switching this off withdraws your consent (GDPR Art. 7(3)); it is "
    "as easy as giving it, and you can give it again at any time.",
    LegalBasis.LEGITIMATE_INTEREST: "Switching this off is your objection (GDPR Art. 21); "
    "we stop, without asking you for reasons.",
    LegalBasis.CONTRACT: None,
    LegalBasis.LEGAL_OBLIGATION: None,
}


@dataclass(frozen=True)
class PurposeInfo:
    """What the product knows about one purpose.

    own_switch: the customer switches the purpose itself on or off on My data (a stored
      PurposeConsent); checkout is switched kind by kind instead.
    gpc: a browser's Global Privacy Control signal ("do not sell or share") switches it off.
    why_not / instead: for a purpose with no switch by law or contract, why, and what the
      customer can do instead.
    """

    label: str
    basis: LegalBasis
    own_switch: bool = False
    gpc: bool = False
    why_not: str = ""
    instead: str = ""


class Purpose(StrEnum):
    """Every purpose customer data is used for (declaration order is display order)."""

    SERVICE = "service"
    SECURITY = "security"
    ACCOUNTABILITY = "accountability"
    CHECKOUT = "checkout"
    PERSONALIZATION = "personalization"
    CONTACT = "contact"
    CROSS_BRAND = "cross_brand"
    THIRD_PARTY = "third_party"

    @property
    def info(self) -> PurposeInfo:
        return PURPOSE_INFO[self]

    @property
    def label(self) -> str:
        return PURPOSE_INFO[self].label

    @property
    def basis(self) -> LegalBasis:
        return PURPOSE_INFO[self].basis

    @property
    def switchable(self) -> bool:
        """The customer can switch it off (consent or legitimate interest)."""
        return SWITCH_RIGHTS[self.basis] is not None

    @property
    def own_switch(self) -> bool:
        return PURPOSE_INFO[self].own_switch

    @property
    def gpc(self) -> bool:
        return PURPOSE_INFO[self].gpc


# Every purpose a customer can switch rests on consent or legitimate interest; contract and
# legal obligation have no switch.
PURPOSE_INFO: dict[Purpose, PurposeInfo] = {
    Purpose.SERVICE: PurposeInfo(
        "Running your account",
        LegalBasis.CONTRACT,
        why_not="Your account cannot run without it: it is what you signed up for.",
        instead="Delete a saved address or card under Saved details, or close your account.",
    ),
    Purpose.SECURITY: PurposeInfo(
        "Keeping your account safe",
        LegalBasis.LEGAL_OBLIGATION,
        why_not="The law requires us to keep your account and data secure (GDPR Art. 32).",
        instead="Sign out other devices or remove a second factor on the Security page.",
    ),
    Purpose.ACCOUNTABILITY: PurposeInfo(
        "Showing you who accessed your data",
        LegalBasis.LEGAL_OBLIGATION,
        why_not="The law requires us to be able to prove what happened to your data and what "
        "you chose (GDPR Art. 5(2) and 7(1)).",
        instead="Read it any time in your access log; it goes when you close your account.",
    ),
    Purpose.CHECKOUT: PurposeInfo("Faster checkout", LegalBasis.CONSENT),
    Purpose.PERSONALIZATION: PurposeInfo(
        "Personalized recommendations", LegalBasis.CONSENT, own_switch=True
    ),
    Purpose.CONTACT: PurposeInfo("Contacting you", LegalBasis.LEGITIMATE_INTEREST, own_switch=True),
    Purpose.CROSS_BRAND: PurposeInfo(
        "Sharing across the group's brands", LegalBasis.CONSENT, own_switch=True, gpc=True
    ),
    Purpose.THIRD_PARTY: PurposeInfo(
        "Third-party enrichment", LegalBasis.CONSENT, own_switch=True, gpc=True
    ),
}

# Lookups derived from Purpose, for callers that read them as tables.
PURPOSES: dict[str, str] = {p.value: p.label for p in Purpose}
PURPOSE_BASIS: dict[str, LegalBasis] = {p.value: p.basis for p in Purpose}
NOT_SWITCHABLE: dict[str, tuple[str, str]] = {
    p.value: (p.info.why_not, p.info.instead) for p in Purpose if not p.switchable
}
# Purposes with their own on/off switch (stored consents); the rest of the switchable ones
# are switched kind by kind.
OWN_SWITCH_PURPOSES: tuple[Purpose, ...] = tuple(p for p in Purpose if p.own_switch)
SWITCHABLE_PURPOSES: frozenset[str] = frozenset(p.value for p in Purpose if p.switchable)
GPC_PURPOSES: tuple[Purpose, ...] = tuple(p for p in Purpose if p.gpc)


def purpose_label(purpose: str) -> str:
    """A purpose's label; an unknown code is shown as it is."""
    return PURPOSES.get(purpose, purpose)


def purpose_legal(purpose: str) -> dict:
    """Everything the customer is told about one purpose's legal footing."""
    p = Purpose(purpose)
    basis = p.basis
    return {
        "purpose": p.value,
        "label": p.label,
        "basis": basis.value,
        "basis_label": basis.label,
        "article": basis.article,
        "switchable": p.switchable,
        "right": SWITCH_RIGHTS[basis] or "",
        "why_not_switchable": p.info.why_not,
        "instead": p.info.instead,
    }


def legal_bases() -> list[dict]:
    return [purpose_legal(p) for p in Purpose]


class Touchpoint(StrEnum):
    """Where the product reads a kind of data (minimal viable data)."""

    CHECKOUT = "checkout"
    MESSAGES = "messages"
    RECOMMENDATIONS = "recommendations"
    WIDGET = "widget"


class AuditAction(StrEnum):
    """What an audit row says was done (accounts.AuditEvent.action)."""

    CREATE = "create"
    UPDATE = "update"
    DELETE = "delete"
    INGEST = "ingest"
    READ = "read"
    VIEW = "view"
    REVEAL = "reveal"
    RECOMPUTE = "recompute"
    USE_ON = "use_on"
    USE_OFF = "use_off"
    EXPORT = "export"
    ERASE = "erase"
    CONNECT = "connect"
    CONFIRM = "confirm"
    EXTEND = "extend"
    REQUEST_LOGGED = "request_logged"
    REQUEST_RECEIVED = "request_received"
    REQUEST_IN_PROGRESS = "request_in_progress"
    REQUEST_DONE = "request_done"


# Audit `data_kind` values that are not one kind: the whole record (an export) and a read
# that returned no kind at all. Otherwise it is a kind name, or several joined by commas.
AUDIT_SCOPES = {"all": "all of the customer's data", "": "none of it"}


def audit_data_kind_valid(data_kind: str) -> bool:
    if data_kind in AUDIT_SCOPES:
        return True
    return all(name in _KINDS for name in data_kind.split(","))


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
class Summary:
    """One row of a kind in words, as My data lists it (never a secret).

    text: the row -> its sentence. related: select_related paths `text` reads, so a page of
    rows costs one query.
    """

    text: Callable[[Any], str]
    related: tuple[str, ...] = ()


def _str_summary(obj: Any) -> str:
    return str(obj)


@dataclass(frozen=True)
class DataKind:
    """One kind of customer data: everything the dashboard, export, erasure and retention
    need, declared once by the app that holds it.

    owner: the lookup from `model` to the Customer ("" when the model is Customer).
    touchpoints: where the product reads this kind (minimal viable data).
    retention_days: None keeps it while the account exists; the fallback when the row's
      brand has no profile of its own in `retention`.
    retention: days per brand sensitivity profile (its value, "retail", "banking").
    summary: the row in words on My data (default: the model's str()).
    log_name: what the access log calls it after "your" (default: the label, lower case).
    secret_fields: never shown, never exported (credentials, tokens).
    not_deletable_alone: why the customer cannot delete it on its own ("" if they can).
    kept_as_proof: after an erasure its rows stay, detached from the account (content-free).
    external_id_field: the field holding the brand's own id for a row, told to the brand
      when the customer switches that row off or deletes it (webhooks).
    merge: how rows join another customer's when a brand's record is connected.
    """

    name: str
    label: str
    model: str
    owner: str
    source: Source
    purposes: tuple[Purpose, ...]
    description: str = ""
    sensitivity: str = "low"
    retention_days: int | None = None
    retention: Mapping[str, int | None] = field(default_factory=dict, hash=False)
    touchpoints: tuple[Touchpoint, ...] = ()
    summary: Summary = Summary(_str_summary)
    log_name: str = ""
    secret_fields: frozenset[str] = frozenset()
    not_deletable_alone: str = ""
    kept_as_proof: bool = False
    brand_field: str | None = None
    created_field: str | None = None
    external_id_field: str | None = None
    merge: Merge = MOVE

    def __post_init__(self) -> None:
        # Declarations may spell purposes and touchpoints as their values; an unknown one
        # fails here, at start-up, not on a page.
        bad_purposes = sorted(set(self.purposes) - PURPOSES.keys())
        if bad_purposes:
            raise ValueError(f"{self.name}: unknown purposes {bad_purposes}")
        bad_touchpoints = sorted(set(self.touchpoints) - {t.value for t in Touchpoint})
        if bad_touchpoints:
            raise ValueError(f"{self.name}: unknown touchpoints {bad_touchpoints}")
        purposes = tuple(Purpose(p) for p in self.purposes)
        touchpoints = tuple(Touchpoint(t) for t in self.touchpoints)
        object.__setattr__(self, "purposes", purposes)
        object.__setattr__(self, "touchpoints", touchpoints)
        object.__setattr__(self, "secret_fields", frozenset(self.secret_fields))

    def get_model(self) -> Any:
        return apps.get_model(self.model)

    def owner_filter(self, customer: Any) -> dict:
        return {"pk": customer.pk} if not self.owner else {self.owner: customer}

    def rows_for(self, customer: Any) -> Any:
        return self.get_model()._default_manager.filter(**self.owner_filter(customer))

    def retention_for(self, sensitivity: str | None) -> int | None:
        """Days a row is kept: its brand's profile first, else the kind's own."""
        if sensitivity is not None and sensitivity in self.retention:
            return self.retention[sensitivity]
        return self.retention_days


_KINDS: dict[str, DataKind] = {}


def register(*kinds: DataKind) -> None:
    for kind in kinds:
        existing = _KINDS.get(kind.name)
        if existing is not None and existing != kind:
            raise ValueError(f"data kind {kind.name!r} registered twice, differently")
        _KINDS[kind.name] = kind


def unregister(name: str) -> None:
    """Drop a kind (tests that register one of their own)."""
    _KINDS.pop(name, None)


def all_kinds() -> list[DataKind]:
    return list(_KINDS.values())


def get(name: str) -> DataKind:
    return _KINDS[name]


def find(name: str) -> DataKind | None:
    """The kind of that name, None if there is none."""
    return _KINDS.get(name)


def registered_models() -> set[str]:
    return {kind.model.lower() for kind in _KINDS.values()}


# --- words every app's summaries share ------------------------------------------------------


def kind_label(name: str) -> str:
    """A kind's label; an unknown name is shown as it is."""
    kind = _KINDS.get(name)
    return kind.label if kind is not None else name


def when(value: Any) -> str:
    return f"{value:%d %b %Y}" if value else ""


def possessive(name: str) -> str:
    return f"{name}'" if name.endswith("s") else f"{name}'s"


def display(obj: Any, field_name: str) -> str:
    getter = getattr(obj, f"get_{field_name}_display", None)
    return str(getter() if getter else getattr(obj, field_name))


# The access log's rows are worded by transparency (the access log page's phrasing); the
# accounts app, which declares the kind, cannot import it, so transparency plugs it in here
# when it loads (transparency.datakinds).
_audit_sentence: Callable[[Any], str] = _str_summary


def audit_sentence_set(sentence: Callable[[Any], str]) -> None:
    global _audit_sentence
    _audit_sentence = sentence


def audit_sentence(event: Any) -> str:
    return _audit_sentence(event)
