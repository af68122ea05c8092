from datetime import datetime

from django.contrib.auth import get_user_model
from django.db import transaction
from django.utils import timezone

from .audit import Actor, audit_record
from .models import AccountSession, Brand, Customer, Sensitivity

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
