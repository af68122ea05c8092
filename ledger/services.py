"""Writes to the ledger. Every change to customer data is audited in its own transaction.

Each write for a customer starts by taking their lock (accounts.locks): an erasure running
at the same time finishes first, and the write then raises CustomerGone (a 403, nothing
written) instead of leaving rows the erasure cannot see.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import time
from decimal import Decimal

from django.db import transaction
from django.utils import timezone

from accounts.audit import Actor, audit_record
from accounts.locks import customer_lock
from accounts.models import Brand, Customer

from .messages.services import data_updated, marketing_choice_told
from .models import (
    Address,
    ContactPreference,
    FactField,
    Order,
    OrderLine,
    PaymentMethod,
    PersonalFact,
    Product,
    SetBy,
    Source,
)
from .payments import CardToken

ADDRESS_FIELDS = ("label", "recipient", "line1", "line2", "city", "postal_code", "country")


def _tell_brands(customer_id: int, kind: str) -> None:
    """`data.updated` to the customer's brands (kind only; they read the values through
    GET /api/v1/customers/{ref}, limited to what the customer allows them)."""
    data_updated(customer_id=customer_id, kind=kind)


class LedgerError(Exception):
    """A request the ledger refuses; the message is safe to show to the customer."""


@transaction.atomic
def product_upsert(
    *,
    brand: Brand,
    external_id: str,
    name: str,
    category: str = "",
    price: Decimal = Decimal("0"),
    image_url: str = "",
    active: bool = True,
) -> Product:
    product, _ = Product.objects.update_or_create(
        brand=brand,
        external_id=external_id,
        defaults={
            "name": name,
            "category": category,
            "price": price,
            "image_url": image_url,
            "active": active,
        },
    )
    return product


# --- personal facts ------------------------------------------------------------------


@transaction.atomic
def personal_facts_update(*, customer: Customer, values: dict[str, str], actor: Actor) -> list[str]:
    """Set the customer's facts from `values` (field -> text; "" clears). Returns what changed.

    A given value becomes "provided by you"; an empty one deletes the fact; an unchanged
    one is left alone, with no audit row.
    """
    customer_lock(customer.pk)
    existing = {f.field: f for f in PersonalFact.objects.filter(customer=customer)}
    changed: list[str] = []
    for field in FactField.values:
        if field not in values:
            continue
        new = (values[field] or "").strip()
        fact = existing.get(field)
        if fact is None and not new:
            continue
        if fact is not None and not new:
            fact.delete()
            action = "delete"
        elif fact is None:
            PersonalFact.objects.create(
                customer=customer,
                field=field,
                value=new,
                source=Source.PROVIDED,
                set_by=SetBy.CUSTOMER,
                set_at=timezone.now(),
            )
            action = "create"
        elif fact.value != new:
            # The customer's correction: it wins over any later value a brand sends.
            fact.value = new
            fact.source = Source.PROVIDED
            fact.brand = None
            fact.set_by, fact.set_at = SetBy.CUSTOMER, timezone.now()
            fact.save(update_fields=["value", "source", "brand", "set_by", "set_at", "updated_at"])
            action = "update"
        else:
            continue
        audit_record(
            actor=actor,
            customer=customer,
            data_kind="personal_fact",
            action=action,
            object_ref=field,
        )
        changed.append(field)
    if changed:
        _tell_brands(customer.pk, "personal_fact")
    return changed


# --- addresses -----------------------------------------------------------------------


def _audit(actor: Actor, customer: Customer, kind: str, action: str, obj, reason: str = ""):
    audit_record(
        actor=actor,
        customer=customer,
        data_kind=kind,
        action=action,
        object_ref=str(obj.pk),
        reason=reason,
    )


@transaction.atomic
def address_create(*, customer: Customer, actor: Actor, **fields: str) -> Address:
    """Save a new address; the customer's first address becomes the default."""
    customer_lock(customer.pk)
    has_default = (
        Address.objects.select_for_update().filter(customer=customer, is_default=True).exists()
    )
    address = Address.objects.create(
        customer=customer,
        source=Source.PROVIDED,
        set_by=SetBy.CUSTOMER,
        set_at=timezone.now(),
        is_default=not has_default,
        **{k: fields.get(k, "") for k in ADDRESS_FIELDS},
    )
    _audit(actor, customer, "address", "create", address)
    _tell_brands(customer.pk, "address")
    return address


@transaction.atomic
def address_update(*, address: Address, actor: Actor, **fields: str) -> bool:
    """Update the given fields; returns False (and writes nothing) when nothing changed."""
    customer_lock(address.customer_id)
    changed = [k for k in ADDRESS_FIELDS if k in fields and getattr(address, k) != fields[k]]
    if not changed:
        return False
    for k in changed:
        setattr(address, k, fields[k])
    address.source = Source.PROVIDED
    # The customer's correction: it wins over any later value the brand sends for it.
    address.set_by, address.set_at = SetBy.CUSTOMER, timezone.now()
    address.save(update_fields=[*changed, "source", "set_by", "set_at", "updated_at"])
    _audit(actor, address.customer, "address", "update", address)
    _tell_brands(address.customer_id, "address")
    return True


@transaction.atomic
def address_set_default(*, address: Address, actor: Actor) -> bool:
    """Make `address` the only default, in one transaction. False when it already was."""
    customer_lock(address.customer_id)
    return _default_switch(address, kind="address", actor=actor)


@transaction.atomic
def address_delete(*, address: Address, actor: Actor) -> None:
    """Delete an address; if it was the default, the newest remaining one takes over."""
    customer_lock(address.customer_id)
    _delete_keeping_a_default(address, kind="address", actor=actor)


def _default_switch(obj: Address | PaymentMethod, *, kind: str, actor: Actor) -> bool:
    model, customer = type(obj), obj.customer
    # Lock the customer's rows so two concurrent switches cannot leave two defaults.
    list(model.objects.select_for_update().filter(customer=customer).values_list("pk"))
    if model.objects.filter(pk=obj.pk, is_default=True).exists():
        return False
    model.objects.filter(customer=customer, is_default=True).update(is_default=False)
    model.objects.filter(pk=obj.pk).update(is_default=True, updated_at=timezone.now())
    obj.is_default = True
    _audit(actor, customer, kind, "update", obj, reason="set default")
    return True


def _delete_keeping_a_default(obj: Address | PaymentMethod, *, kind: str, actor: Actor) -> None:
    model, customer, was_default = type(obj), obj.customer, obj.is_default
    _audit(actor, customer, kind, "delete", obj)
    obj.delete()
    if was_default:
        successor = model.objects.filter(customer=customer).order_by("-created_at").first()
        if successor is not None:
            model.objects.filter(pk=successor.pk).update(is_default=True)


# --- payment methods -----------------------------------------------------------------


@transaction.atomic
def payment_method_create(
    *, customer: Customer, card: CardToken, processor: str, actor: Actor
) -> PaymentMethod:
    """Save a tokenized card (token, brand, last 4, expiry only); the first one is default."""
    customer_lock(customer.pk)
    has_default = (
        PaymentMethod.objects.select_for_update()
        .filter(customer=customer, is_default=True)
        .exists()
    )
    method = PaymentMethod.objects.create(
        customer=customer,
        source=Source.PROVIDED,
        processor=processor,
        processor_token=card.token,
        card_brand=card.brand,
        last4=card.last4,
        exp_month=card.exp_month,
        exp_year=card.exp_year,
        is_default=not has_default,
    )
    _audit(actor, customer, "payment_method", "create", method)
    _tell_brands(customer.pk, "payment_method")
    return method


@transaction.atomic
def payment_method_set_default(*, method: PaymentMethod, actor: Actor) -> bool:
    """Make `method` the only default card. False when it already was."""
    customer_lock(method.customer_id)
    return _default_switch(method, kind="payment_method", actor=actor)


@transaction.atomic
def payment_method_delete(*, method: PaymentMethod, actor: Actor) -> None:
    """Delete a card; if it was the default, the newest remaining one takes over."""
    customer_lock(method.customer_id)
    _delete_keeping_a_default(method, kind="payment_method", actor=actor)


# --- contact preferences -------------------------------------------------------------


@transaction.atomic
def contact_preference_set(
    *,
    customer: Customer,
    brand: Brand | None,
    channel: str,
    quiet_start: time | None,
    quiet_end: time | None,
    best_hour_override: int | None,
    actor: Actor,
    time_zone: str | None = None,
    marketing_allowed: bool | None = None,
) -> ContactPreference | None:
    """Create or update the preference for one brand (None: every brand).

    Returns the preference when something changed, None when nothing did.

    Longer than 50 lines: validate, lock, compare, save, audit and tell the brands in
    one transaction; most of the length is the keyword-only signature and the change
    comparison field by field.
    """
    customer_lock(customer.pk)
    wanted = {
        "channel": channel,
        "quiet_start": quiet_start,
        "quiet_end": quiet_end,
        "best_hour_override": best_hour_override,
    }
    # None: leave as it is (callers that predate these settings).
    if time_zone is not None:
        wanted["time_zone"] = time_zone
    if marketing_allowed is not None:
        wanted["marketing_allowed"] = marketing_allowed
    pref = (
        ContactPreference.objects.select_for_update().filter(customer=customer, brand=brand).first()
    )
    if pref is None:
        pref = ContactPreference.objects.create(
            customer=customer,
            brand=brand,
            source=Source.PROVIDED,
            set_by=SetBy.CUSTOMER,
            set_at=timezone.now(),
            **wanted,
        )
        _audit(actor, customer, "contact_preference", "create", pref)
        if brand is not None and not pref.marketing_allowed:
            marketing_choice_told(customer=customer, brand=brand, allowed=False, via="dashboard")
        return pref
    changed = [k for k, v in wanted.items() if getattr(pref, k) != v]
    if not changed:
        return None
    for k in changed:
        setattr(pref, k, wanted[k])
    pref.source = Source.PROVIDED
    # The customer's choice replaces the brand's per-channel record and wins over later ones.
    pref.set_by, pref.set_at, pref.channels = SetBy.CUSTOMER, timezone.now(), {}
    pref.save(update_fields=[*changed, "source", "set_by", "set_at", "channels", "updated_at"])
    _audit(actor, customer, "contact_preference", "update", pref)
    if brand is not None and "marketing_allowed" in changed:
        marketing_choice_told(
            customer=customer, brand=brand, allowed=pref.marketing_allowed, via="dashboard"
        )
    return pref


# --- orders --------------------------------------------------------------------------


@transaction.atomic
def order_set_gift(*, order: Order, is_gift: bool, actor: Actor) -> bool:
    """Mark or unmark an order as a gift (gifts never shape recommendations)."""
    customer_lock(order.customer_id)
    if order.is_gift == is_gift:
        return False
    order.is_gift = is_gift
    order.save(update_fields=["is_gift", "updated_at"])
    _audit(
        actor,
        order.customer,
        "order",
        "update",
        order,
        reason="marked as gift" if is_gift else "unmarked as gift",
    )
    return True


@dataclass(frozen=True)
class ReorderResult:
    order: Order
    skipped: int  # lines whose product is no longer sold


@transaction.atomic
def order_reorder(*, order: Order, actor: Actor) -> ReorderResult:
    """Place the same order again with the customer's defaults and today's prices.

    Raises LedgerError (and creates nothing) without a default address or payment method,
    or when none of the products is still sold.
    """
    customer_lock(order.customer_id)
    customer = order.customer
    address = Address.objects.filter(customer=customer, is_default=True).first()
    method = PaymentMethod.objects.filter(customer=customer, is_default=True).first()
    if address is None and method is None:
        raise LedgerError("Add a default address and a default payment method to reorder.")
    if address is None:
        raise LedgerError("Choose a default delivery address to reorder.")
    if method is None:
        raise LedgerError("Choose a default payment method to reorder.")
    lines = list(order.lines.select_related("product"))
    available = [
        line for line in lines if line.product.active and line.product.brand_id == order.brand_id
    ]
    if not available:
        raise LedgerError("None of the products in this order are still available.")
    total = sum((line.product.price * line.quantity for line in available), Decimal("0"))
    new = Order.objects.create(
        customer=customer,
        brand_id=order.brand_id,
        source=Source.PROVIDED,
        placed_at=timezone.now(),
        currency=order.currency,
        total=total,
        shipping_address=address,
        payment_method=method,
    )
    OrderLine.objects.bulk_create(
        OrderLine(
            order=new,
            product=line.product,
            quantity=line.quantity,
            unit_price=line.product.price,
        )
        for line in available
    )
    _audit(actor, customer, "order", "create", new, reason=f"reorder of {order.pk}")
    return ReorderResult(order=new, skipped=len(lines) - len(available))
