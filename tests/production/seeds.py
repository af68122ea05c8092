"""One row of every registered data kind for a customer (IDOR sweep, header test).

SEEDS maps each kind name to a function creating one of that customer's rows. A kind
registered in transparency.registry without a seed here fails the tests that use
`seed_every_kind`: add one (preferably with a factory from tests/factories.py).
"""

from datetime import timedelta

from django.db import models, transaction
from django.utils import timezone

from accounts.audit import Actor, audit_record
from accounts.models import ConsentEvent, KindSetting, PurposeConsent
from tests import factories
from transparency.registry import all_kinds


def _email(customer):
    from allauth.account.models import EmailAddress

    return EmailAddress.objects.create(
        user=customer.user, email=f"{customer.user.username}@example.com", verified=True
    )


def _authenticator(customer):
    from allauth.mfa.recovery_codes.internal.auth import RecoveryCodes

    return RecoveryCodes.activate(customer.user).instance


def _session(customer):
    from allauth.usersessions.models import UserSession

    return UserSession.objects.create(
        user=customer.user,
        session_key=f"seed-{customer.pk}-{timezone.now().timestamp()}",
        ip="127.0.0.1",
        user_agent="seed",
        last_seen_at=timezone.now(),
    )


def _audit(customer):
    with transaction.atomic():
        return audit_record(
            actor=Actor.system("seed"), customer=customer, data_kind="address", action="view"
        )


def _recommendation(customer):
    from recommendations.models import Recommendation

    brand = factories.BrandFactory()
    product = factories.ProductFactory(brand=brand)
    return Recommendation.objects.create(
        customer=customer, brand=brand, product=product, rank=1, score=4.5
    )


def _interest(customer):
    from recommendations.models import InferredInterest

    return InferredInterest.objects.create(
        customer=customer, brand=factories.BrandFactory(), category="Books", weight=0.7
    )


def _contact_hour(customer):
    from recommendations.models import ContactHourInference

    return ContactHourInference.objects.create(
        customer=customer, brand=factories.BrandFactory(), hour=19, confidence=0.6
    )


def _receipt(customer):
    from transparency.models import DeletionReceipt

    return DeletionReceipt.objects.create(
        customer=customer, scope="kind", kinds={"address": 1}, requested_at=timezone.now()
    )


def _data_request(customer):
    from transparency.models import DataRequest

    return DataRequest.objects.create(
        customer=customer, kind="export", deadline=timezone.now() + timedelta(days=30)
    )


SEEDS = {
    "account": lambda c: c.user,
    "customer_record": lambda c: c,
    "email_address": _email,
    "mfa_authenticator": _authenticator,
    "session": _session,
    "access_log": _audit,
    "brand_link": lambda c: factories.CustomerBrandFactory(customer=c),
    "consent": lambda c: PurposeConsent.objects.create(
        customer=c, purpose="personalization", granted=True
    ),
    "consent_history": lambda c: ConsentEvent.objects.create(
        customer=c, purpose="personalization", granted=True, channel="dashboard"
    ),
    "kind_setting": lambda c: KindSetting.objects.create(
        customer=c, data_kind="event", in_use=False
    ),
    "personal_fact": lambda c: factories.PersonalFactFactory(customer=c),
    "address": lambda c: factories.AddressFactory(customer=c),
    "payment_method": lambda c: factories.PaymentMethodFactory(customer=c),
    "contact_preference": lambda c: factories.ContactPreferenceFactory(customer=c),
    "order": lambda c: factories.OrderFactory(customer=c),
    "order_line": lambda c: factories.OrderLineFactory(order__customer=c),
    "event": lambda c: factories.EventFactory(customer=c),
    "message": lambda c: factories.MessageFactory(customer=c),
    "partner_attribute": lambda c: factories.PartnerAttributeFactory(customer=c),
    "recommendation": _recommendation,
    "inferred_interest": _interest,
    "contact_hour": _contact_hour,
    "deletion_receipt": _receipt,
    "data_request": _data_request,
}


def missing_seeds() -> list[str]:
    return sorted(kind.name for kind in all_kinds() if kind.name not in SEEDS)


def seed_every_kind(customer) -> dict[str, list]:
    """Seed one row of every kind; returns {kind name: that customer's rows of the kind}."""
    assert not missing_seeds(), f"registered kinds without a seed in SEEDS: {missing_seeds()}"
    for kind in all_kinds():
        SEEDS[kind.name](customer)
    rows = {kind.name: list(kind.rows_for(customer)) for kind in all_kinds()}
    empty = sorted(name for name, found in rows.items() if not found)
    assert not empty, f"seeding left these kinds empty for {customer}: {empty}"
    return rows


def identifiers(rows: dict[str, list]) -> dict[str, set]:
    """Every value a URL could use to point at one of these rows, by converter type."""
    found: dict[str, set] = {"int": set(), "uuid": set(), "str": set()}
    for objs in rows.values():
        for obj in objs:
            found["int"].add(obj.pk)
            for field in obj._meta.concrete_fields:
                value = getattr(obj, field.attname)
                if isinstance(field, models.UUIDField) and value:
                    found["uuid"].add(str(value))
                elif isinstance(field, models.SlugField) and value:
                    found["str"].add(value)
    found["str"] |= {str(pk) for pk in found["int"]} | found["uuid"]
    return found
