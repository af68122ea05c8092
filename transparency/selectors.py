import json
import math
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from allauth.account.models import EmailAddress
from allauth.mfa.models import Authenticator
from allauth.usersessions.models import UserSession
from django.contrib.auth import get_user_model
from django.core.paginator import Page, Paginator
from django.db import models
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
from django.utils import timezone

from accounts import profiles
from accounts.admin_access import SECRET_FIELDS
from accounts.models import (
    AuditEvent,
    Brand,
    Customer,
    CustomerBrand,
    KindSetting,
    Purpose,
    PurposeConsent,
    Sensitivity,
)

from . import registry


def security_overview(*, user) -> dict:
    return {
        "mfa_types": sorted(Authenticator.objects.filter(user=user).values_list("type", flat=True)),
        "passkey_count": Authenticator.objects.filter(
            user=user, type=Authenticator.Type.WEBAUTHN
        ).count(),
        "session_count": UserSession.objects.filter(user=user).count(),
        "emails": list(EmailAddress.objects.filter(user=user).values("email", "verified")),
    }


# --- My data --------------------------------------------------------------------------
# Reads behind the customer's "My data" area, the export and the statement. Everything is
# driven by the registry, so a newly registered kind shows up without touching this file.

ITEMS_PER_PAGE = 50
SWITCHABLE_PURPOSES = {"checkout", "personalization", "contact", "cross_brand", "third_party"}

# Kinds the customer cannot delete one by one from My data, and why (shown on the page).
NOT_DELETABLE_ALONE = {
    "account": "Goes when you close your account.",
    "customer_record": "Goes when you close your account.",
    "access_log": "Kept so you can always see who accessed your data; it goes when you "
    "close your account.",
    "consent_history": "Kept as proof of the choices you made; it goes when you close your "
    "account.",
    "email_address": "Managed on the Security page.",
    "mfa_authenticator": "Managed on the Security page.",
    "session": "Managed on the Security page, where you can sign out other devices.",
    "deletion_receipt": "Proof of deletions; receipts hold no personal content.",
    "data_request": "Proof of your requests; they hold no personal content.",
}
# Kept as proof after an erasure, detached from the account (their customer link is
# set to NULL); they hold no personal content.
KEPT_AS_PROOF = {"deletion_receipt", "data_request"}

SECRET_NAME_PARTS = ("password", "secret", "token", "key_hash", "session_key")


def source_label(kind) -> str:
    return kind.source.label


def purpose_labels(kind) -> list[str]:
    return [registry.PURPOSES[p] for p in kind.purposes]


def kind_has_point_toggle(kind) -> bool:
    return any(f.name == "in_use" for f in kind.get_model()._meta.concrete_fields)


def kind_is_switchable(kind) -> bool:
    return bool(set(kind.purposes) & SWITCHABLE_PURPOSES)


def retention_for(kind, sensitivity: str | None) -> int | None:
    """Days a row of `kind` is kept; the brand's sensitivity profile overrides the kind."""
    if sensitivity in profiles.PROFILES:
        return profiles.retention_days(sensitivity, kind.name, kind.retention_days)
    return kind.retention_days


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
    the brands for the filter. None when the user has no customer record."""
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
    kind_settings, explicit = {}, {}
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
                "not_deletable": NOT_DELETABLE_ALONE.get(kind.name, ""),
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
    rows = []
    for purpose in Purpose:
        default = purpose_default(sensitivities=sensitivities, purpose=purpose.value)
        rows.append(
            {
                "purpose": purpose.value,
                "label": registry.PURPOSES.get(purpose.value, purpose.label),
                "granted": explicit.get(purpose.value, default),
                "is_default": purpose.value not in explicit,
                "kinds": [k.label for k in registry.all_kinds() if purpose.value in k.purposes],
                "legal": registry.purpose_legal(purpose.value),
            }
        )
    return rows


def purposes_without_switch() -> list[dict]:
    """Purposes that are not on/off switches on My data: the ones with no switch by law or
    contract (why, and what to do instead), and checkout, switched kind by kind."""
    toggled = set(Purpose.values)
    return [row for row in registry.legal_bases() if row["purpose"] not in toggled]


def purpose_granted(*, customer: Customer, purpose: str) -> bool:
    for row in purposes_state(customer=customer):
        if row["purpose"] == purpose:
            return row["granted"]
    raise KeyError(purpose)


# --- items of one kind ----------------------------------------------------------------


def _display(obj, field: str) -> str:
    getter = getattr(obj, f"get_{field}_display", None)
    return str(getter() if getter else getattr(obj, field))


def _when(value) -> str:
    return f"{value:%d %b %Y}" if value else ""


def _s_account(o) -> str:
    email = f", email {o.email}" if o.email else ", no email"
    return f"Username {o.username}{email}, joined {_when(o.date_joined)}"


def _s_email(o) -> str:
    state = "verified" if o.verified else "not verified"
    return f"{o.email} ({state}{', primary' if o.primary else ''})"


def _s_session(o) -> str:
    return (
        f"{o.user_agent[:80] or 'Unknown browser'} from {o.ip}, last seen {_when(o.last_seen_at)}"
    )


def _s_audit(o) -> str:
    return access_sentence(o)


def _s_consent_event(o) -> str:
    what = registry.PURPOSES.get(o.purpose, o.purpose) if o.purpose else _kind_label(o.data_kind)
    if o.collected_at is not None:  # collected by a brand itself (ingest)
        verb = "given" if o.granted else "refused"
        wording = f" (wording {o.wording_version})" if o.wording_version else ""
        return (
            f"{what}: {verb} at {_possessive(o.actor_label)} {o.channel} on "
            f"{_when(o.collected_at)}{wording}"
        )
    ref = f" item {o.object_ref}" if o.object_ref else ""
    return f"{what}{ref} switched {'on' if o.granted else 'off'} via {o.channel}"


def _sent_text(o) -> str:
    """A brand's value the customer's correction overrode, in words."""
    try:
        sent = json.loads(o.brand_sent_value)
    except ValueError:
        return o.brand_sent_value
    if isinstance(sent, dict) and all(isinstance(v, bool) for v in sent.values()):
        return ", ".join(f"{k} {'yes' if v else 'no'}" for k, v in sorted(sent.items()))
    if isinstance(sent, dict):
        return ", ".join(str(v) for v in sent.values() if v)
    return str(sent)


def _provenance(o) -> str:
    """Who last set a value and when; a brand's different value kept beside the customer's."""
    brand = o.brand.name if o.brand_id else "a brand"
    who = "you" if o.set_by == "customer" else brand
    text = f" — set by {who}" + (f" on {_when(o.set_at)}" if o.set_at else "")
    if o.brand_sent_value and o.brand_sent_at:
        sender = o.brand_sent_by.name if o.brand_sent_by_id else "A brand"
        text += (
            f"; {sender} sent a different value (“{_sent_text(o)}”) on "
            f"{_when(o.brand_sent_at)}, yours is kept"
        )
    return text


def _s_contact(o) -> str:
    quiet = f", quiet {o.quiet_start:%H:%M}–{o.quiet_end:%H:%M}" if o.quiet_start else ""
    channels = ""
    if o.channels and o.set_by != "customer":
        channels = (
            " ("
            + ", ".join(f"{k} {'yes' if v else 'no'}" for k, v in sorted(o.channels.items()))
            + ")"
        )
    return f"Contact by {o.get_channel_display()}{channels}{quiet}{_provenance(o)}"


def _s_partner(o) -> str:
    purpose = registry.PURPOSES.get(o.purpose, o.purpose)
    return (
        f"{o.name}: {o.value} — from {o.partner_name} via {o.brand.name}, obtained "
        f"{_when(o.obtained_at)} for {purpose.lower()}"
    )


def _s_order(o) -> str:
    gift = ", marked as a gift" if o.is_gift else ""
    return f"Order {o.external_id or o.pk}: {o.total} {o.currency}, {_when(o.placed_at)}{gift}"


def _s_event(o) -> str:
    target = o.product.name if o.product_id else (f"“{o.query}”" if o.query else "")
    rating = f" ({o.value:g}★)" if o.value is not None else ""
    return f"{o.get_kind_display()} {target}{rating}".strip()


# kind name -> (select_related paths, summary). No secrets: payment methods show the card
# brand and last 4; authenticators their type; sessions never their key.
SUMMARIES = {
    "account": ((), _s_account),
    "customer_record": ((), lambda o: f"Customer id {o.public_id}"),
    "email_address": ((), _s_email),
    "mfa_authenticator": (
        (),
        lambda o: f"{_display(o, 'type')}, added {_when(o.created_at)} (secret never shown)",
    ),
    "session": ((), _s_session),
    "access_log": (("actor_user", "actor_brand"), _s_audit),
    "brand_link": (
        ("brand",),
        lambda o: (
            f"{o.brand.name} knows you as “{o.external_ref}”; sharing across brands "
            f"{'allowed' if o.share_across_brands else 'not allowed'}"
        ),
    ),
    "consent": (
        (),
        lambda o: (
            f"{registry.PURPOSES.get(o.purpose, o.purpose)}: "
            f"{'allowed' if o.granted else 'not allowed'}"
        ),
    ),
    "consent_history": ((), _s_consent_event),
    "kind_setting": (
        (),
        lambda o: f"{_kind_label(o.data_kind)}: {'in use' if o.in_use else 'kept, not used'}",
    ),
    "personal_fact": (
        ("brand", "brand_sent_by"),
        lambda o: f"{o.get_field_display()}: {o.value}{_provenance(o)}",
    ),
    "address": (
        ("brand", "brand_sent_by"),
        lambda o: (
            f"{o.label or 'Address'}: {o.recipient}, {o.line1}, {o.postal_code} "
            f"{o.city}, {o.country}" + (" (default)" if o.is_default else "") + _provenance(o)
        ),
    ),
    "payment_method": (
        (),
        lambda o: (
            f"{o.card_brand.title()} •••• {o.last4}, expires "
            f"{o.exp_month:02d}/{o.exp_year}" + (" (default)" if o.is_default else "")
        ),
    ),
    "contact_preference": (("brand", "brand_sent_by"), _s_contact),
    "partner_attribute": (("brand",), _s_partner),
    "order": ((), _s_order),
    "order_line": (
        ("product",),
        lambda o: f"{o.quantity} × {o.product.name} at {o.unit_price}",
    ),
    "event": (("product",), _s_event),
    "deletion_receipt": (
        (),
        lambda o: f"{o.get_scope_display()}: {o.total} item(s) deleted",
    ),
    "data_request": (
        (),
        lambda o: (
            f"{o.get_kind_display()}: {o.get_state_display().lower()}, deadline {_when(o.deadline)}"
        ),
    ),
}


def _kind_label(name: str) -> str:
    try:
        return registry.get(name).label
    except KeyError:
        return name


# --- the access log in plain words ------------------------------------------------------
# Audit rows hold codes (task names, "use_off"); the customer reads sentences instead:
# "Northwind Outfitters' recommendation system read your activity to update your
# suggestions". Unknown codes fall back to plain words, never to the code itself.

SYSTEM_ACTORS = {
    "recommendations.recompute_customer": "recommendation system",
    "recommendations.train_brand": "recommendation system",
    "recommendations.nightly_retrain": "recommendation system",
    "transparency.retention_sweep": "automatic clean-up",
    "demo_data": "demo set-up",
    "load_movielens": "data import",
}


def _possessive(name: str) -> str:
    return f"{name}'" if name.endswith("s") else f"{name}'s"


def _brand_name(event: AuditEvent) -> str:
    if event.actor_brand_id and event.actor_brand is not None:
        return event.actor_brand.name
    return event.actor_label.rsplit(" (", 1)[0] if event.actor_label else ""


def access_log_actor(event: AuditEvent) -> str:
    """Who acted, in words: "You", "Staff member ana", "Northwind's website"..."""
    if event.actor_kind == "customer":
        return "You"
    if event.actor_kind == "staff":
        name = event.actor_user.get_username() if event.actor_user_id else event.actor_label
        return f"Staff member {name}" if name else "A staff member"
    if event.actor_kind == "brand":
        brand = _brand_name(event) or "A brand"
        via = "website" if event.actor_label.endswith("(widget)") else "systems"
        return f"{_possessive(brand)} {via}"
    system = SYSTEM_ACTORS.get(event.actor_label)
    if system is None:
        return "An automated process"
    brand = event.actor_brand.name if event.actor_brand_id and event.actor_brand else ""
    return f"{_possessive(brand)} {system}" if brand else f"The {system}"


def _kinds_phrase(data_kind: str) -> str:
    """ "your activity", "your addresses and orders", "your choices"..."""
    special = {"consent": "choices", "all": "data", "": "data"}
    names = [n for n in data_kind.split(",") if n] or [""]
    labels = []
    for name in names:
        label = special.get(name) or _kind_label(name)
        labels.append("data" if label == name else label.lower())
    if len(labels) > 1:
        return "your " + ", ".join(labels[:-1]) + " and " + labels[-1]
    return f"your {labels[0]}"


def _switch_phrase(event: AuditEvent, on: bool) -> str:
    if event.data_kind in ("consent", "") and event.object_ref:
        what = f"“{registry.PURPOSES.get(event.object_ref, 'a use of your data')}”"
    elif event.object_ref:
        what = f"one item of {_kinds_phrase(event.data_kind)}"
    else:
        what = f"all {_kinds_phrase(event.data_kind)}"
    return f"switched {what} back on" if on else f"switched off {what} (kept, not used)"


def access_action(event: AuditEvent) -> str:
    """What was done, as the predicate of a sentence whose subject is the actor."""
    action, kind, reason = event.action, event.data_kind, event.reason
    data = _kinds_phrase(kind)
    if action == "recompute":
        if reason == "model retrained":
            return "read your activity to retrain its model and update your suggestions"
        return "read your activity to update your suggestions"
    if action in ("use_on", "use_off"):
        return _switch_phrase(event, action == "use_on")
    if action == "view":
        where = " in the staff admin" if reason == "admin" else ""
        said = f" (reason given: {reason})" if reason and reason != "admin" else ""
        return f"looked at {data}{where}{said}"
    if action == "ingest":
        if kind == "account":
            return "created your customer record from its customer list"
        return f"sent {reason}" if reason else f"sent {data}"
    if action == "create":
        if kind == "account":
            return "created your account"
        if kind == "brand_link":
            return "linked your account with a brand"
        if reason == "not interested":
            return "noted a product you are not interested in"
        return f"added to {data}"
    if action == "update":
        return f"chose a new default in {data}" if reason == "set default" else f"changed {data}"
    if action == "delete":
        if event.actor_label == "transparency.retention_sweep":
            return f"deleted {data} that reached the end of its retention period"
        return f"deleted {data}"
    if action == "reveal":
        return f"unmasked a field of {data} (reason given: {reason})"
    if action == "extend":
        return f"extended the deadline of your request ({reason})"
    if action == "erase":
        return "closed the account and deleted everything held about you"
    if action == "export":
        return "downloaded a copy of your data"
    if action == "read":
        return f"read {data}"
    return f"handled {data}"


def access_sentence(event: AuditEvent) -> str:
    return f"{access_log_actor(event)} {access_action(event)}"


def _fallback_summary(obj) -> str:
    return str(obj)


@dataclass
class Item:
    pk: int
    summary: str
    collected_at: datetime | None
    brand: str
    in_use: bool | None
    expires_at: datetime | None
    # Choice history: [{"brand", "trained_at"}] of the models retrained without it.
    retrains: list[dict] = field(default_factory=list)

    @property
    def name(self) -> str:
        """What the item is, for accessible names: "Viewed Trail Runner shoes, 28 Nov"."""
        if self.collected_at is None:
            return self.summary
        when = timezone.localtime(self.collected_at)
        return f"{self.summary}, {when.day} {when:%b}"

    @property
    def days_left(self) -> int | None:
        if self.expires_at is None:
            return None
        return max(0, math.ceil((self.expires_at - timezone.now()).total_seconds() / 86400))


def kind_items_queryset(*, customer: Customer, kind, brand_id: int | None = None):
    qs = kind.rows_for(customer)
    if brand_id is not None and kind.brand_field:
        qs = qs.filter(**{kind.brand_field: brand_id})
    annotations = {}
    if kind.created_field:
        annotations["_collected"] = F(kind.created_field)
    if kind.brand_field:
        annotations["_brand_name"] = F(f"{kind.brand_field}__name")
        annotations["_brand_sensitivity"] = F(f"{kind.brand_field}__sensitivity")
    related = SUMMARIES.get(kind.name, ((), None))[0]
    if related:
        qs = qs.select_related(*related)
    return qs.annotate(**annotations).order_by("-pk")


def item_from(kind, obj) -> Item:
    summarize = SUMMARIES.get(kind.name, ((), _fallback_summary))[1]
    collected = getattr(obj, "_collected", None)
    sensitivity = getattr(obj, "_brand_sensitivity", None)
    days = retention_for(kind, sensitivity)
    expires = collected + timedelta(days=days) if collected and days is not None else None
    return Item(
        pk=obj.pk,
        summary=summarize(obj),
        collected_at=collected,
        brand=getattr(obj, "_brand_name", None) or "",
        in_use=getattr(obj, "in_use", None),
        expires_at=expires,
    )


def kind_items(
    *, customer: Customer, kind, page: int | str = 1, brand_id: int | None = None
) -> tuple[Page, list[Item]]:
    paginator = Paginator(
        kind_items_queryset(customer=customer, kind=kind, brand_id=brand_id), ITEMS_PER_PAGE
    )
    page_obj = paginator.get_page(page)
    items = [item_from(kind, obj) for obj in page_obj.object_list]
    if kind.name == "consent_history":
        from .retrains import choice_notes

        notes = choice_notes(choice_ids=[item.pk for item in items])
        for item in items:
            item.retrains = notes.get(item.pk, [])
    return page_obj, items


def kind_item(*, customer: Customer, kind, pk: int) -> Item:
    """One item, scoped to its owner (raises DoesNotExist for anyone else's)."""
    return item_from(kind, kind_items_queryset(customer=customer, kind=kind).get(pk=pk))


def kind_item_page(*, customer: Customer, kind, pk: int) -> int | None:
    """The page of the kind's list (newest first) holding this point; None if not theirs."""
    rows = kind.rows_for(customer)
    if not rows.filter(pk=pk).exists():
        return None
    return rows.filter(pk__gt=pk).count() // ITEMS_PER_PAGE + 1


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
        for rel in _cascading_relations(kind.get_model()):
            child = model_kinds.get(rel.related_model)
            if child is None or any(k is child for k, _ in plan):
                continue
            m = rel.related_model._default_manager.filter(
                **{f"{rel.field.name}__in": qs.values("pk")}
            ).count()
            if m:
                counts[child.label] = counts.get(child.label, 0) + m
    return counts


def _cascading_relations(model):
    from django.db.models.deletion import get_candidate_relations_to_delete

    return [
        rel
        for rel in get_candidate_relations_to_delete(model._meta)
        if rel.field.remote_field.on_delete is models.CASCADE
    ]


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
    secret = SECRET_FIELDS.get(model._meta.label_lower, set())
    owner_models = {Customer, get_user_model()}
    fields = []
    for f in model._meta.concrete_fields:
        if f.name in secret or any(part in f.name for part in SECRET_NAME_PARTS):
            continue
        if f.is_relation and f.related_model in owner_models and model not in owner_models:
            continue
        fields.append((f.name, f.attname))
    return fields


# --- access log -------------------------------------------------------------------------


def access_log(*, customer: Customer, page: int | str = 1) -> Page:
    qs = AuditEvent.objects.filter(customer=customer).select_related("actor_user", "actor_brand")
    return Paginator(qs, ITEMS_PER_PAGE).get_page(page)


@dataclass
class AccessLine:
    what: str
    first: datetime
    last: datetime
    times: int = 1


@dataclass
class AccessActor:
    who: str
    lines: list[AccessLine]


@dataclass
class AccessDay:
    day: date
    label: str
    actors: list[AccessActor]


def _day_label(day: date, today: date) -> str:
    if day == today:
        return "Today"
    if day == today - timedelta(days=1):
        return "Yesterday"
    return f"{day:%A} {day.day} {day:%B %Y}"


def access_log_days(events, *, today: date | None = None) -> list[AccessDay]:
    """Events (newest first) grouped by day, then by who acted; the same thing done by the
    same actor on the same day is one line with a count and a time span."""
    days: dict[date, dict[str, dict[str, AccessLine]]] = {}
    for event in events:
        when = timezone.localtime(event.created_at)
        actors = days.setdefault(when.date(), {})
        lines = actors.setdefault(access_log_actor(event), {})
        what = access_action(event)
        line = lines.get(what)
        if line is None:
            lines[what] = AccessLine(what=what, first=when, last=when)
        else:
            line.times += 1
            line.first = when
    today = today or timezone.localdate()
    return [
        AccessDay(
            day=day,
            label=_day_label(day, today),
            actors=[
                AccessActor(who=who, lines=list(lines.values())) for who, lines in actors.items()
            ],
        )
        for day, actors in days.items()
    ]


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
        "kinds": [(_kind_label(name), n) for name, n in sorted(receipt.kinds.items())],
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
                registry.PURPOSES.get(p, p) for p in profiles.PROFILES[s]["purposes_off"]
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
