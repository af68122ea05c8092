"""The kinds of customer data the ledger holds: what brands recorded about the customer.
Everything about a kind is declared here (summary, secrets, retention per profile)."""

import json

from accounts.models import Sensitivity
from transparency.registry import (
    DataKind,
    Merge,
    Purpose,
    Source,
    Summary,
    Touchpoint,
    purpose_label,
    register,
    when,
)

# Related rows the provenance line reads.
PROVENANCE = ("brand", "brand_sent_by")


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
    text = f" — set by {who}" + (f" on {when(o.set_at)}" if o.set_at else "")
    if o.brand_sent_value and o.brand_sent_at:
        sender = o.brand_sent_by.name if o.brand_sent_by_id else "A brand"
        text += (
            f"; {sender} sent a different value (“{_sent_text(o)}”) on "
            f"{when(o.brand_sent_at)}, yours is kept"
        )
    return text


def _address(o) -> str:
    default = " (default)" if o.is_default else ""
    return (
        f"{o.label or 'Address'}: {o.recipient}, {o.line1}, {o.postal_code} "
        f"{o.city}, {o.country}{default}{_provenance(o)}"
    )


def _payment(o) -> str:
    default = " (default)" if o.is_default else ""
    return f"{o.card_brand.title()} •••• {o.last4}, expires {o.exp_month:02d}/{o.exp_year}{default}"


def _contact(o) -> str:
    quiet = f", quiet {o.quiet_start:%H:%M}–{o.quiet_end:%H:%M}" if o.quiet_start else ""
    channels = ""
    if o.channels and o.set_by != "customer":
        channels = (
            " ("
            + ", ".join(f"{k} {'yes' if v else 'no'}" for k, v in sorted(o.channels.items()))
            + ")"
        )
    return f"Contact by {o.get_channel_display()}{channels}{quiet}{_provenance(o)}"


def _partner(o) -> str:
    purpose = purpose_label(o.purpose)
    return (
        f"{o.name}: {o.value} — from {o.partner_name} via {o.brand.name}, obtained "
        f"{when(o.obtained_at)} for {purpose.lower()}"
    )


def _order(o) -> str:
    gift = ", marked as a gift" if o.is_gift else ""
    return f"Order {o.external_id or o.pk}: {o.total} {o.currency}, {when(o.placed_at)}{gift}"


def _event(o) -> str:
    target = o.product.name if o.product_id else (f"“{o.query}”" if o.query else "")
    rating = f" ({o.value:g}★)" if o.value is not None else ""
    return f"{o.get_kind_display()} {target}{rating}".strip()


register(
    DataKind(
        name="personal_fact",
        label="Personal details",
        model="ledger.PersonalFact",
        owner="customer",
        source=Source.PROVIDED,
        purposes=(Purpose.SERVICE, Purpose.CHECKOUT, Purpose.CONTACT),
        description="Your legal name, birthday, phone and contact email (encrypted at rest), "
        "with who last set each (you or a brand) and when; a brand's different value is "
        "shown beside a correction of yours, never used.",
        sensitivity="high",
        touchpoints=(Touchpoint.CHECKOUT, Touchpoint.MESSAGES),
        summary=Summary(
            lambda o: f"{o.get_field_display()}: {o.value}{_provenance(o)}", related=PROVENANCE
        ),
        brand_field="brand",
        created_field="created_at",
        merge=Merge(key=("field",), stricter=(("in_use", False),)),
    ),
    DataKind(
        name="address",
        label="Addresses",
        model="ledger.Address",
        owner="customer",
        source=Source.PROVIDED,
        purposes=(Purpose.CHECKOUT,),
        description="Delivery addresses, with your default (street and postcode encrypted), "
        "who last set each and when.",
        sensitivity="high",
        touchpoints=(Touchpoint.CHECKOUT,),
        summary=Summary(_address, related=PROVENANCE),
        brand_field="brand",
        created_field="created_at",
        external_id_field="external_id",
        merge=Merge(single=("is_default",)),
    ),
    DataKind(
        name="payment_method",
        label="Payment methods",
        model="ledger.PaymentMethod",
        owner="customer",
        source=Source.PROVIDED,
        purposes=(Purpose.CHECKOUT,),
        description="Cards as the processor's token, card brand, last 4 digits and expiry. "
        "Card numbers and security codes are never stored.",
        sensitivity="high",
        touchpoints=(Touchpoint.CHECKOUT,),
        summary=Summary(_payment),
        secret_fields=frozenset({"processor_token"}),
        brand_field="brand",
        created_field="created_at",
        merge=Merge(single=("is_default",)),
    ),
    DataKind(
        name="contact_preference",
        label="Contact preferences",
        model="ledger.ContactPreference",
        owner="customer",
        source=Source.PROVIDED,
        purposes=(Purpose.CONTACT,),
        description="How and when each brand may reach you, per channel, with who last set "
        "it and when.",
        sensitivity="low",
        touchpoints=(Touchpoint.MESSAGES,),
        summary=Summary(_contact, related=PROVENANCE),
        brand_field="brand",
        created_field="created_at",
        merge=Merge(key=("brand",), stricter=(("in_use", False), ("channel", "none"))),
    ),
    DataKind(
        name="order",
        label="Orders",
        model="ledger.Order",
        owner="customer",
        source=Source.OBSERVED,
        purposes=(Purpose.CHECKOUT, Purpose.PERSONALIZATION),
        description="What you bought, when and from which brand; gifts never shape "
        "recommendations.",
        sensitivity="medium",
        retention_days=365 * 7,
        retention={Sensitivity.RETAIL: 365 * 7, Sensitivity.BANKING: 365 * 10},
        touchpoints=(Touchpoint.CHECKOUT, Touchpoint.RECOMMENDATIONS, Touchpoint.WIDGET),
        summary=Summary(_order),
        brand_field="brand",
        created_field="placed_at",
        external_id_field="external_id",
    ),
    DataKind(
        name="order_line",
        label="Order lines",
        model="ledger.OrderLine",
        owner="order__customer",
        source=Source.OBSERVED,
        purposes=(Purpose.CHECKOUT, Purpose.PERSONALIZATION),
        description="The products and quantities in each order.",
        sensitivity="medium",
        retention_days=365 * 7,
        touchpoints=(Touchpoint.CHECKOUT, Touchpoint.RECOMMENDATIONS, Touchpoint.WIDGET),
        summary=Summary(
            lambda o: f"{o.quantity} × {o.product.name} at {o.unit_price}", related=("product",)
        ),
        brand_field="order__brand",
        created_field="order__placed_at",
    ),
    DataKind(
        name="event",
        label="Activity",
        model="ledger.Event",
        owner="customer",
        source=Source.OBSERVED,
        purposes=(Purpose.PERSONALIZATION,),
        description="Views, clicks, searches, ratings and add-to-carts the brand recorded.",
        sensitivity="medium",
        retention_days=365,
        retention={Sensitivity.RETAIL: 365, Sensitivity.BANKING: 90},
        touchpoints=(Touchpoint.RECOMMENDATIONS, Touchpoint.WIDGET),
        summary=Summary(_event, related=("product",)),
        brand_field="brand",
        created_field="occurred_at",
        external_id_field="external_id",
    ),
    DataKind(
        name="message",
        label="Messages",
        model="ledger.Message",
        owner="customer",
        source=Source.OBSERVED,
        purposes=(Purpose.SERVICE, Purpose.CONTACT),
        description="What brands sent you through Candor, on which channel, when, and why "
        "that channel and time.",
        sensitivity="medium",
        touchpoints=(Touchpoint.MESSAGES,),
        brand_field="brand",
        created_field="created_at",
        external_id_field="external_id",
    ),
)

register(
    DataKind(
        name="partner_attribute",
        label="Data from partners",
        model="ledger.PartnerAttribute",
        owner="customer",
        source=Source.THIRD_PARTY,
        purposes=(Purpose.THIRD_PARTY,),
        description="What a brand received about you from a named partner, what for and "
        "when (values encrypted). Kept only while you allow third-party enrichment.",
        sensitivity="high",
        retention_days=365,
        retention={Sensitivity.RETAIL: 365, Sensitivity.BANKING: 90},
        touchpoints=(),
        summary=Summary(_partner, related=("brand",)),
        brand_field="brand",
        created_field="created_at",
        external_id_field="external_id",
        merge=Merge(key=("brand", "partner_name", "name"), stricter=(("in_use", False),)),
    ),
)
