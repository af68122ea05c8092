"""Reads behind the customer's "My data" area, the export and the statement.

Everything is driven by the registry, so a newly registered kind shows up without touching
this file. The items of one kind are in `items`, the access log's wording in `access_log`,
purposes in `purposes`; their names stay importable from here.
"""

from __future__ import annotations

from typing import Any

from allauth.account.models import EmailAddress
from allauth.mfa.models import Authenticator
from allauth.usersessions.models import UserSession
from django.contrib.auth import get_user_model
from django.db.models import (
    CharField,
    Exists,
    F,
    Func,
    IntegerField,
    OuterRef,
    Q,
    Subquery,
    Value,
)

from accounts import profiles
from accounts.models import (
    Brand,
    Customer,
    CustomerBrand,
    KindSetting,
    PurposeConsent,
    Sensitivity,
)

from . import registry
from .access_log import (  # noqa: F401  importable from here
    ITEMS_PER_PAGE,
    SYSTEM_ACTORS,
    AccessActor,
    AccessDay,
    AccessLine,
    access_action,
    access_log,
    access_log_actor,
    access_log_days,
    access_sentence,
)
from .items import (  # noqa: F401  importable from here
    Item,
    item_from,
    kind_item,
    kind_item_page,
    kind_items,
    kind_items_queryset,
)
from .purposes import (  # noqa: F401  importable from here
    purpose_default,
    purpose_granted,
    purpose_rows,
    purposes_state,
    purposes_without_switch,
)
from .registry import DataKind
from .relations import cascading_relations

SWITCHABLE_PURPOSES = registry.SWITCHABLE_PURPOSES

# Never shown, never exported whatever the kind: fields named like credentials or secrets.
# (Each kind's own secret fields are declared with it.)
SECRET_NAME_PARTS = ("password", "secret", "token", "key_hash", "session_key")


def security_overview(*, user: Any) -> dict:
    return {
        "mfa_types": sorted(Authenticator.objects.filter(user=user).values_list("type", flat=True)),
        "passkey_count": Authenticator.objects.filter(
            user=user, type=Authenticator.Type.WEBAUTHN
        ).count(),
        "session_count": UserSession.objects.filter(user=user).count(),
        "emails": list(EmailAddress.objects.filter(user=user).values("email", "verified")),
    }


def source_label(kind: DataKind) -> str:
    return kind.source.label


def purpose_labels(kind: DataKind) -> list[str]:
    return [p.label for p in kind.purposes]


def kind_has_point_toggle(kind: DataKind) -> bool:
    return any(f.name == "in_use" for f in kind.get_model()._meta.concrete_fields)


def kind_is_switchable(kind: DataKind) -> bool:
    return any(p.switchable for p in kind.purposes)


def retention_for(kind: DataKind, sensitivity: str | None) -> int | None:
    """Days a row of `kind` is kept; the brand's sensitivity profile overrides the kind."""
    return kind.retention_for(sensitivity)


def retention_text(days: int | None) -> str:
    if days is None:
        return "Kept while your account exists"
    if days % 365 == 0:
        years = days // 365
        return f"Kept {years} year{'s' if years != 1 else ''}"
    return f"Kept {days} days"


def _owner_lookup(kind) -> str:
    return kind.owner or "pk"


def _count_subquery(kind, extra: Q | None = None) -> Subquery:
    qs = kind.get_model()._default_manager.filter(**{_owner_lookup(kind): OuterRef("pk")})
    if extra is not None:
        qs = qs.filter(extra)
    # COUNT as a plain function keeps it a scalar subquery without GROUP BY.
    counted = qs.order_by().annotate(_n=Func(F("pk"), function="COUNT")).values("_n")
    return Subquery(counted, output_field=IntegerField())


def kinds_for(*, source: str = "", brand_id: int | None = None) -> list:
    kinds = registry.all_kinds()
    if source:
        kinds = [k for k in kinds if k.source == source]
    if brand_id is not None:
        kinds = [k for k in kinds if k.brand_field]
    return kinds


def my_data_overview(*, user, source: str = "", brand_id: int | None = None) -> dict | None:
    """Everything the My data page needs in three queries whatever the data size: the
    customer with every kind's counts, their choices (kind switches and purposes), and
    the brands for the filter. None when the user has no customer record.

    Longer than 50 lines: the three queries and the rows built from them share the
    annotated counts; the page's query count is asserted, so they stay together.
    """
    kinds = kinds_for(source=source, brand_id=brand_id)
    annotations: dict = {}
    for i, kind in enumerate(kinds):
        brand_q = Q(**{kind.brand_field: brand_id}) if brand_id is not None else None
        annotations[f"n{i}"] = _count_subquery(kind, brand_q)
        if kind_has_point_toggle(kind):
            off = Q(in_use=False) if brand_q is None else Q(in_use=False) & brand_q
            annotations[f"off{i}"] = _count_subquery(kind, off)
    for sensitivity in Sensitivity.values:
        annotations[f"sens_{sensitivity}"] = Exists(
            CustomerBrand.objects.filter(customer=OuterRef("pk"), brand__sensitivity=sensitivity)
        )
    row = (
        Customer.objects.filter(user=user).annotate(**annotations).values("pk", *annotations)
    ).first()
    if row is None:
        return None
    customer_id = row["pk"]
    choices = (
        KindSetting.objects.filter(customer_id=customer_id)
        .annotate(t=Value("kind", output_field=CharField()))
        .values_list("t", "data_kind", "in_use")
        .union(
            PurposeConsent.objects.filter(customer_id=customer_id)
            .annotate(t=Value("purpose", output_field=CharField()))
            .values_list("t", "purpose", "granted"),
            all=True,
        )
    )
    kind_settings: dict[str, bool] = {}
    explicit: dict[str, bool] = {}
    for tag, name, on in choices:
        (kind_settings if tag == "kind" else explicit)[name] = bool(on)
    sensitivities = {s for s in Sensitivity.values if row[f"sens_{s}"]}
    rows = []
    for i, kind in enumerate(kinds):
        rows.append(
            {
                "kind": kind,
                "name": kind.name,
                "label": kind.label,
                "source": kind.source.value,
                "source_label": source_label(kind),
                "purposes": purpose_labels(kind),
                "touchpoints": list(kind.touchpoints),
                "description": kind.description,
                "retention": retention_text(kind.retention_days),
                "count": row.get(f"n{i}") or 0,
                "off_count": row.get(f"off{i}") or 0,
                "in_use": kind_settings.get(kind.name, True),
                "switchable": kind_is_switchable(kind),
                "point_toggle": kind_has_point_toggle(kind),
                "not_deletable": kind.not_deletable_alone,
            }
        )
    return {
        "customer_id": customer_id,
        "kinds": rows,
        "purposes": purpose_rows(explicit, sensitivities),
        "brands": customer_brands(customer=customer_id),
    }


def customer_brands(*, customer: Customer | int) -> list[Brand]:
    """Brands that hold any of this customer's data (for the brand filter)."""
    q = Q(customer_links__customer=customer)
    for kind in registry.all_kinds():
        if kind.brand_field and kind.model.lower() != "accounts.customerbrand":
            ids = kind.rows_for(customer).order_by().values(kind.brand_field)
            q |= Q(pk__in=ids)
    return list(Brand.objects.filter(q).distinct().order_by("name"))


def kind_setting_in_use(*, customer: Customer, kind_name: str) -> bool:
    row = KindSetting.objects.filter(customer=customer, data_kind=kind_name).first()
    return True if row is None else row.in_use


# --- deletion impact ------------------------------------------------------------------


def impact_counts(*, customer: Customer, plan: list[tuple]) -> dict[str, int]:
    """{kind label: rows} that a deletion plan [(kind, queryset)] would remove, including
    rows of other kinds that go with them (an order's lines)."""
    model_kinds = {k.get_model(): k for k in registry.all_kinds()}
    counts: dict[str, int] = {}
    for kind, qs in plan:
        n = qs.count()
        if n:
            counts[kind.label] = counts.get(kind.label, 0) + n
        for rel in cascading_relations(kind.get_model()):
            child = model_kinds.get(rel.model)
            if child is None or any(k is child for k, _ in plan):
                continue
            m = rel.model._default_manager.filter(**{f"{rel.field}__in": qs.values("pk")}).count()
            if m:
                counts[child.label] = counts.get(child.label, 0) + m
    return counts


def recommendations_affected(*, customer: Customer, plan: list[tuple]) -> list[dict]:
    """Recommendations that cite the data about to go (from the recommendations app)."""
    try:
        from recommendations import selectors as rec_selectors
    except ModuleNotFoundError:
        return []
    citing = getattr(rec_selectors, "recommendations_citing", None)
    if citing is None:
        return []
    seen: dict[str, dict] = {}
    for kind, qs in plan:
        if "personalization" not in kind.purposes and kind.source != registry.Source.INFERRED:
            continue
        pks = list(qs.values_list("pk", flat=True))
        if not pks:
            continue
        for rec in citing(customer_id=customer.pk, kind=kind.name, pks=pks):
            seen.setdefault(str(rec.get("product_name")), rec)
    return list(seen.values())


# --- export -----------------------------------------------------------------------------


def export_fields(kind) -> list[tuple[str, str]]:
    """(label, values() lookup) of a kind's exportable fields: no secrets, no internal
    links to the account itself."""
    model = kind.get_model()
    secret = kind.secret_fields
    owner_models = {Customer, get_user_model()}
    fields = []
    for f in model._meta.concrete_fields:
        if f.name in secret or any(part in f.name for part in SECRET_NAME_PARTS):
            continue
        if f.is_relation and f.related_model in owner_models and model not in owner_models:
            continue
        fields.append((f.name, f.attname))
    return fields


# --- receipts ---------------------------------------------------------------------------


def receipt_view(*, receipt, name_brands: bool = False) -> dict:
    """What a receipt page shows: kinds, counts, times and retrained model versions.

    Brands are named only when `name_brands` (the signed-in owner is looking); otherwise
    they are numbered, so a receipt link tells nobody whom the person dealt with."""
    brand_names = (
        dict(
            Brand.objects.filter(
                pk__in=[int(b) for b in receipt.model_versions_after if str(b).isdigit()]
            ).values_list("pk", "name")
        )
        if name_brands
        else {}
    )
    return {
        "receipt": receipt,
        "kinds": [(registry.kind_label(name), n) for name, n in sorted(receipt.kinds.items())],
        "retrains": [
            {"brand": brand_names.get(int(b), f"Brand {n}"), "run": run}
            for n, (b, run) in enumerate(sorted(receipt.model_versions_after.items()), start=1)
        ],
    }


# --- transparency statement -------------------------------------------------------------


def statement() -> dict:
    from django.contrib.auth.models import Group, Permission

    kinds = registry.all_kinds()
    sensitivities = list(Sensitivity)
    kind_rows = []
    for kind in kinds:
        kind_rows.append(
            {
                "kind": kind,
                "source_label": source_label(kind),
                "purposes": purpose_labels(kind),
                "retention": [
                    (s.label, retention_text(retention_for(kind, s.value))) for s in sensitivities
                ],
            }
        )
    data_models = {k.model.lower() for k in kinds}
    perms = [
        p
        for p in Permission.objects.select_related("content_type")
        if f"{p.content_type.app_label}.{p.content_type.model}" in data_models
    ]
    perm_ids = {p.pk for p in perms}
    groups = []
    for group in Group.objects.prefetch_related("permissions__content_type").order_by("name"):
        granted = [p.name for p in group.permissions.all() if p.pk in perm_ids]
        if granted:
            groups.append({"name": group.name, "permissions": sorted(granted)})
    profiles_rows = [
        {
            "label": s.label,
            "purposes_off": sorted(
                registry.purpose_label(p) for p in profiles.PROFILES[s]["purposes_off"]
            ),
        }
        for s in sensitivities
    ]
    return {
        "kinds": kind_rows,
        "legal_bases": registry.legal_bases(),
        "sensitivities": [s.label for s in sensitivities],
        "profiles": profiles_rows,
        "groups": groups,
        "purposes": registry.PURPOSES,
        "sources": registry.SOURCE_LABELS,
    }
