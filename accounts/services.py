import secrets
from datetime import datetime

from django.contrib.auth import get_user_model
from django.contrib.auth.hashers import make_password
from django.db import transaction
from django.utils import timezone

from .audit import Actor, AuditEntry, audit_record, audit_record_many
from .consent_history import consent_events_append
from .models import (
    AccountSession,
    Brand,
    ConsentEvent,
    Customer,
    CustomerBrand,
    Purpose,
    PurposeConsent,
    Sensitivity,
)
from .profiles import purpose_default

User = get_user_model()


@transaction.atomic
def customer_create(*, user) -> Customer:
    """Give a newly signed-up user their customer record (idempotent)."""
    customer, created = Customer.objects.get_or_create(user=user)
    if created:
        audit_record(
            actor=Actor.customer(customer),
            customer=customer,
            data_kind="account",
            action="create",
            reason="sign-up",
        )
    return customer


def brand_customers_create(
    *, brand: Brand, refs: list[str], actor: Actor, reason: str = ""
) -> dict[str, int]:
    """Create one customer per brand reference: the one way a brand's customers come to be.

    Each gets a user with no usable password (they get in through the brand's connect link),
    the link to the brand under that reference, the brand's sensitivity defaults for every
    purpose (with their consent history rows) and an audit row, all in bulk. Call inside
    the transaction that decided the references are new. Returns {ref: customer id}.
    """
    if not refs:
        return {}
    users = User.objects.bulk_create(
        User(username=f"b{brand.pk}-{secrets.token_hex(10)}", password=make_password(None))
        for _ in refs
    )
    customers = Customer.objects.bulk_create(Customer(user_id=u.pk) for u in users)
    CustomerBrand.objects.bulk_create(
        CustomerBrand(customer_id=c.pk, brand=brand, external_ref=ref)
        for c, ref in zip(customers, refs, strict=True)
    )
    defaults = {p.value: purpose_default(brand.sensitivity, p.value) for p in Purpose}
    PurposeConsent.objects.bulk_create(
        PurposeConsent(customer_id=c.pk, purpose=p, granted=g)
        for c in customers
        for p, g in defaults.items()
    )
    consent_events_append(
        events=[
            ConsentEvent(
                customer_id=c.pk,
                purpose=p,
                granted=g,
                channel="default",
                actor_label=actor.label[:120],
            )
            for c in customers
            for p, g in defaults.items()
        ],
        new_customers=True,
    )
    reason = reason or (
        f"created from {brand.name}'s customer feed ({brand.get_sensitivity_display()} defaults)"
    )
    audit_record_many(
        actor=actor,
        entries=(
            AuditEntry(customer_id=c.pk, data_kind="account", action="ingest", reason=reason)
            for c in customers
        ),
    )
    return {ref: c.pk for c, ref in zip(customers, refs, strict=True)}


def brand_link_create(*, customer: Customer, brand: Brand, ref: str) -> CustomerBrand:
    """Link an existing customer to `brand` under the brand's reference `ref`.

    The one way a single link is made (connect, the demo); a brand's new customers come
    with their links from :func:`brand_customers_create`. Call inside the transaction of
    the change, which writes its own audit row saying why (connected, demo).
    """
    return CustomerBrand.objects.create(customer=customer, brand=brand, external_ref=ref)


@transaction.atomic
def staff_user_upsert(
    *, username: str, password: str, email: str = "", superuser: bool = False
) -> tuple[object, bool]:
    """Create or update a staff account; for scripts (see the create_staff command)."""
    user, created = User.objects.get_or_create(username=username)
    user.email = email or user.email
    user.is_staff = True
    user.is_superuser = superuser or user.is_superuser
    user.set_password(password)
    user.save()
    return user, created


@transaction.atomic
def brand_upsert(*, slug: str, name: str, sensitivity: str = Sensitivity.RETAIL) -> Brand:
    brand, _ = Brand.objects.update_or_create(
        slug=slug, defaults={"name": name, "sensitivity": sensitivity}
    )
    return brand


def account_sessions_end(*, user_id: int) -> int:
    """Delete every session whose data names this user, half-finished logins included
    (accounts.sessions tags each row). One indexed statement; returns how many went."""
    return AccountSession.objects.filter(account_id=user_id).delete()[0]


def sessions_purge_expired(*, now: datetime | None = None) -> int:
    """Delete every expired session (periodic: accounts.sessions_purge). Returns the count."""
    return AccountSession.objects.filter(expire_date__lt=now or timezone.now()).delete()[0]
