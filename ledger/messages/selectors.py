"""Reads for messages: what a decision may know (in bulk), recipients, the inbox page, and
the brand's view of a customer's current details.

Everything here reads a fixed number of queries per batch, whatever its size. Kinds the
customer switched off ("keep but don't use") and points not in use are never read.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass

from django.contrib.auth.hashers import UNUSABLE_PASSWORD_PREFIX
from django.core.paginator import Page, Paginator
from django.db.models import Q
from django.urls import reverse

from accounts.models import Brand, Customer, CustomerBrand, KindSetting, Purpose, PurposeConsent
from accounts.profiles import purpose_default
from transparency import registry

from ..models import Address, ContactPreference, Order, PaymentMethod, PersonalFact
from .decide import Reach
from .models import Destination, Message

PER_PAGE = 25
READ_KINDS = ("personal_fact", "address", "contact_preference", "contact_hour")


def kinds_off(customer_ids) -> set[tuple[int, str]]:
    """(customer id, kind) pairs the customer switched off as a whole."""
    return set(
        KindSetting.objects.filter(customer_id__in=customer_ids, in_use=False).values_list(
            "customer_id", "data_kind"
        )
    )


def purposes_allowed(customer_ids, purpose: str) -> dict[int, bool]:
    """Whether each customer allows `purpose`: their choice, else the strictest default of
    their brands' profiles (as transparency.selectors.purposes_state says it)."""
    explicit = dict(
        PurposeConsent.objects.filter(customer_id__in=customer_ids, purpose=purpose).values_list(
            "customer_id", "granted"
        )
    )
    sensitivities: dict[int, set[str]] = defaultdict(set)
    for cid, sensitivity in CustomerBrand.objects.filter(customer_id__in=customer_ids).values_list(
        "customer_id", "brand__sensitivity"
    ):
        sensitivities[cid].add(sensitivity)
    return {
        cid: explicit.get(
            cid, all(purpose_default(s, purpose) for s in sensitivities[cid] or {"retail"})
        )
        for cid in customer_ids
    }


def reaches(*, brand: Brand, customer_ids, category: str = "service") -> dict[int, Reach]:
    """The decision's inputs for each customer, for messages from `brand`.

    Longer than 50 lines: gathers every input the decision needs (switches, preferences,
    addresses, inferred hours) with one query each, for any number of customers.
    """
    ids = list(customer_ids)
    off = kinds_off(ids)
    prefs: dict[int, ContactPreference] = {}
    for row in ContactPreference.objects.filter(
        Q(brand=brand) | Q(brand__isnull=True), customer_id__in=ids, in_use=True
    ).order_by("brand_id"):  # NULLs last on PostgreSQL, first on SQLite: brand rows win below
        if row.brand_id is not None or row.customer_id not in prefs:
            prefs[row.customer_id] = row
    facts = set(
        PersonalFact.objects.filter(
            customer_id__in=ids, field__in=("email", "phone"), in_use=True
        ).values_list("customer_id", "field")
    )
    account_email = set(
        Customer.objects.filter(pk__in=ids).exclude(user__email="").values_list("pk", flat=True)
    )
    postal = set(
        Address.objects.filter(customer_id__in=ids, in_use=True).values_list(
            "customer_id", flat=True
        )
    )
    hour_model = registry.get("contact_hour").get_model()
    learned = dict(
        hour_model.objects.filter(customer_id__in=ids, brand=brand, in_use=True)
        .order_by("customer_id", "confidence")
        .values_list("customer_id", "hour")
    )
    allowed = purposes_allowed(ids, Purpose.CONTACT)
    out = {}
    for cid in ids:
        pref = None if (cid, "contact_preference") in off else prefs.get(cid)
        facts_on = (cid, "personal_fact") not in off
        out[cid] = Reach(
            category=category,
            brand_name=brand.name,
            channel=pref.channel if pref else None,
            pref_for_brand=bool(pref and pref.brand_id),
            has_email=(facts_on and (cid, "email") in facts) or cid in account_email,
            has_phone=facts_on and (cid, "phone") in facts,
            has_postal=(cid, "address") not in off and cid in postal,
            purpose_allowed=allowed[cid],
            brand_marketing_allowed=pref.marketing_allowed if pref else True,
            quiet_start=pref.quiet_start if pref else None,
            quiet_end=pref.quiet_end if pref else None,
            time_zone=(pref.time_zone if pref and pref.time_zone else brand.time_zone),
            chosen_hour=pref.best_hour_override if pref else None,
            learned_hour_utc=None if (cid, "contact_hour") in off else learned.get(cid),
        )
    return out


@dataclass
class Recipient:
    email: str = ""
    phone: str = ""
    postal: Address | None = None


def recipients(customer_ids) -> dict[int, Recipient]:
    """Where to deliver: the contact email (else the account's), the phone, the default
    address (else the newest). Three queries for any number of customers."""
    ids = list(customer_ids)
    off = kinds_off(ids)
    out = {cid: Recipient() for cid in ids}
    for cid, email in Customer.objects.filter(pk__in=ids).values_list("pk", "user__email"):
        out[cid].email = email or ""
    for fact in PersonalFact.objects.filter(
        customer_id__in=ids, field__in=("email", "phone"), in_use=True
    ):
        if (fact.customer_id, "personal_fact") in off:
            continue
        if fact.field == "email":
            out[fact.customer_id].email = fact.value
        else:
            out[fact.customer_id].phone = fact.value
    for address in Address.objects.filter(customer_id__in=ids, in_use=True).order_by(
        "is_default", "created_at"
    ):  # the default comes last and wins
        if (address.customer_id, "address") not in off:
            out[address.customer_id].postal = address
    return out


def customer_is_shell(customer_id: int) -> bool:
    """A record only a brand's ingest made: nobody can sign in to it (transparency.connect
    says the same; the layers keep ledger from importing it)."""
    return Customer.objects.filter(
        pk=customer_id,
        user__last_login__isnull=True,
        user__password__startswith=UNUSABLE_PASSWORD_PREFIX,
    ).exists()


# --- the customer's pages ----------------------------------------------------------------


def inbox_page(*, customer: Customer, page: str | int | None) -> Page:
    rows = (
        Message.objects.filter(customer=customer)
        .select_related("brand")
        .defer("brand__token_secret")
        .order_by("-created_at", "-id")
    )
    return Paginator(rows, PER_PAGE).get_page(page)


FACT_FIELDS: dict[str, str] = {
    Destination.LEGAL_NAME: "legal_name",
    Destination.BIRTHDAY: "birthday",
    Destination.PHONE: "phone",
    Destination.CONTACT_EMAIL: "email",
}


def destination_url(*, customer: Customer, destination: str, ref: str = "") -> str:
    """The dashboard page a button leads to, with the field to focus (`?focus=`)."""
    if destination in FACT_FIELDS:
        return reverse("dashboard:profile") + f"?focus={FACT_FIELDS[destination]}"
    if destination == Destination.ADDRESS:
        address = Address.objects.filter(customer=customer).order_by("-is_default", "-pk").first()
        if address is None:
            return reverse("dashboard:ledger_address_add") + "?focus=line1"
        return reverse("dashboard:ledger_address_edit", args=[address.pk]) + "?focus=line1"
    if destination == Destination.PAYMENT_METHODS:
        return reverse("dashboard:ledger_card_add") + "?focus=number"
    if destination == Destination.CONTACT_PREFERENCES:
        return reverse("dashboard:saved") + "#contact"
    if destination == Destination.ORDER:
        order = Order.objects.filter(customer=customer, external_id=ref).only("pk").first()
        return reverse("dashboard:orders") + (f"#order-{order.pk}" if order else "")
    return reverse("dashboard:data")


# --- the brand's read of current details (GET /api/v1/customers/{ref}) ------------------

PROVIDED_KINDS = ("personal_fact", "address", "payment_method", "contact_preference")
# Purposes with no switch of their own (service, security, accountability, checkout: the
# last is switched per kind, not per purpose), so a kind serving one is always readable.
ALWAYS = {p.value for p in registry.Purpose if not p.own_switch}


def details_for_brand(*, brand: Brand, link: CustomerBrand) -> tuple[dict, list[str]]:
    """The customer's provided details this brand may see: kinds with a purpose the
    customer allows, points in use, from this brand or the customer themselves (others'
    only when the customer shares across brands). Returns (details, kinds read).

    Longer than 50 lines: one pass over the registered kinds applying three consent
    rules (purpose, point in use, whose data) to a fixed number of queries.
    """
    cid = link.customer_id
    off = {kind for _, kind in kinds_off([cid])}
    switchable = set(Purpose.values)
    granted = {p: purposes_allowed([cid], p)[cid] for p in switchable}
    visible = Q(brand__isnull=True) | Q(brand=brand)
    if link.share_across_brands:
        visible = Q()
    allowed_kinds = [
        name
        for name in PROVIDED_KINDS
        if name not in off
        and any(p in ALWAYS or granted.get(p, False) for p in registry.get(name).purposes)
    ]
    out: dict = {}
    if "personal_fact" in allowed_kinds:
        out["personal_details"] = {
            f.field: f.value
            for f in PersonalFact.objects.filter(visible, customer_id=cid, in_use=True)
        }
    if "address" in allowed_kinds:
        out["addresses"] = [
            {
                "external_id": a.external_id,  # the brand's own id, when it sent the address
                "label": a.label,
                "recipient": a.recipient,
                "line1": a.line1,
                "line2": a.line2,
                "city": a.city,
                "postal_code": a.postal_code,
                "country": a.country,
                "is_default": a.is_default,
            }
            for a in Address.objects.filter(visible, customer_id=cid, in_use=True)
        ]
    if "payment_method" in allowed_kinds:
        out["payment_methods"] = [
            {
                "card_brand": m.card_brand,
                "last4": m.last4,
                "exp_month": m.exp_month,
                "exp_year": m.exp_year,
                "is_default": m.is_default,
            }
            for m in PaymentMethod.objects.filter(visible, customer_id=cid, in_use=True)
        ]
    if "contact_preference" in allowed_kinds:
        rows = ContactPreference.objects.filter(
            Q(brand=brand) | Q(brand__isnull=True), customer_id=cid, in_use=True
        )
        pref = min(rows, key=lambda p: p.brand_id is None, default=None)  # the brand's first
        out["contact_preference"] = (
            {
                "channel": pref.channel,
                "quiet_start": pref.quiet_start.strftime("%H:%M") if pref.quiet_start else None,
                "quiet_end": pref.quiet_end.strftime("%H:%M") if pref.quiet_end else None,
                "time_zone": pref.time_zone or brand.time_zone,
                "marketing_allowed": pref.marketing_allowed,
            }
            if pref
            else None
        )
    return out, allowed_kinds
