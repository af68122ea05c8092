import uuid

import pgtrigger
from django.conf import settings
from django.contrib.sessions.base_session import AbstractBaseSession
from django.core.exceptions import ImproperlyConfigured
from django.db import models
from django.utils import timezone

from transparency.registry import OWN_SWITCH_PURPOSES as _OWN_SWITCH_PURPOSES
from transparency.registry import Purpose as _P

from .crypto import EncryptedTextField

# Declared in their own module, part of this app's models all the same.
from .webhook_models import (  # noqa: F401
    DeliveryState,
    WebhookDelivery,
    WebhookEndpoint,
    WebhookEventType,
)


class Sensitivity(models.TextChoices):
    """A brand's industry threshold: sets which kinds start off and how long they are kept."""

    RETAIL = "retail", "Retail"
    BANKING = "banking", "Banking"


class Brand(models.Model):
    name = models.CharField(max_length=120)
    slug = models.SlugField(unique=True)
    sensitivity = models.CharField(
        max_length=20, choices=Sensitivity.choices, default=Sensitivity.RETAIL
    )
    # Signs (HS256) the short-lived customer tokens the brand's server hands the widget.
    token_secret = EncryptedTextField(blank=True, default="")
    # IANA name: a customer's times (quiet hours, best hour) are read in it unless they
    # chose their own on the contact preference.
    time_zone = models.CharField(max_length=64, default="UTC")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class Customer(models.Model):
    """The person behind a login. Only a username is required to exist."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="customer"
    )
    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        # Staff without it (the support role) see personal fields masked in admin.
        permissions = [("view_unmasked", "Can see customers' personal fields unmasked")]

    def __str__(self) -> str:
        return f"customer {self.public_id}"


class ActorKind(models.TextChoices):
    CUSTOMER = "customer", "You"
    STAFF = "staff", "Staff member"
    BRAND = "brand", "Brand system"
    SYSTEM = "system", "Automated task"


class AuditEvent(models.Model):
    """Append-only record of who read or changed which kind of a customer's data.

    Written in the same transaction as the change it records; it feeds the customer's
    access log. Holds kinds and references, never the data itself.
    """

    customer = models.ForeignKey(
        Customer, on_delete=models.CASCADE, related_name="audit_events", null=True
    )
    actor_kind = models.CharField(max_length=12, choices=ActorKind.choices)
    actor_user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    actor_brand = models.ForeignKey(
        Brand, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    actor_label = models.CharField(max_length=120, blank=True)
    data_kind = models.CharField(max_length=60)
    action = models.CharField(max_length=30)
    object_ref = models.CharField(max_length=80, blank=True)
    reason = models.CharField(max_length=200, blank=True)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["customer", "-created_at"])]
        # Append-only in PostgreSQL too (accounts.append_only has the one allowed path).
        # Only clearing an actor link is let through: deleting a staff user or a brand
        # sets it to NULL (SET_NULL), the row's record of what happened stays.
        triggers = [
            pgtrigger.Protect(name="append_only_delete", operation=pgtrigger.Delete),
            pgtrigger.Protect(
                name="append_only_update",
                operation=pgtrigger.Update,
                condition=pgtrigger.AnyChange(exclude=["actor_user", "actor_brand"]),
            ),
            pgtrigger.Protect(
                name="append_only_actor",
                operation=pgtrigger.Update,
                condition=pgtrigger.Q(
                    new__actor_user__isnull=False,
                    old__actor_user__df=pgtrigger.F("new__actor_user"),
                )
                | pgtrigger.Q(
                    new__actor_brand__isnull=False,
                    old__actor_brand__df=pgtrigger.F("new__actor_brand"),
                ),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.actor_kind} {self.action} {self.data_kind}"

    def save(self, *args, **kwargs):
        if self.pk is not None:
            raise ValueError("Audit events are append-only.")
        super().save(*args, **kwargs)


class CustomerBrand(models.Model):
    """A customer's relationship with one brand, under the brand's own reference for them."""

    customer = models.ForeignKey(Customer, on_delete=models.CASCADE, related_name="brand_links")
    brand = models.ForeignKey(Brand, on_delete=models.CASCADE, related_name="customer_links")
    external_ref = models.CharField(max_length=100)
    # Whether this brand may see data the customer's other brands in the group recorded.
    share_across_brands = models.BooleanField(default=False)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["brand", "external_ref"], name="uniq_brand_ext_ref"),
            models.UniqueConstraint(fields=["customer", "brand"], name="uniq_customer_brand"),
        ]

    def __str__(self) -> str:
        return f"{self.brand} / {self.external_ref}"


class ServerKey(models.Model):
    """A brand's secret key for server-to-server calls. Only its SHA-256 is stored."""

    brand = models.ForeignKey(Brand, on_delete=models.CASCADE, related_name="server_keys")
    label = models.CharField(max_length=80, blank=True)
    prefix = models.CharField(max_length=24, unique=True)
    key_hash = models.CharField(max_length=64, unique=True)
    created_at = models.DateTimeField(auto_now_add=True)
    last_used_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return f"{self.prefix}… ({self.brand})"


class WidgetKey(models.Model):
    """A publishable, read-only key for the widget, bound to the brand's own origins."""

    brand = models.ForeignKey(Brand, on_delete=models.CASCADE, related_name="widget_keys")
    key = models.CharField(max_length=40, unique=True)
    allowed_origins = models.JSONField(default=list)
    created_at = models.DateTimeField(auto_now_add=True)
    revoked_at = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return self.key


class Purpose(models.TextChoices):
    """The purposes with a switch of their own (`own_switch` in transparency.registry.Purpose,
    the one vocabulary): the values a PurposeConsent stores, as model choices. Values and
    labels come from the registry; the check below keeps the members in step with it."""

    PERSONALIZATION = _P.PERSONALIZATION.value, _P.PERSONALIZATION.label
    CONTACT = _P.CONTACT.value, _P.CONTACT.label
    CROSS_BRAND = _P.CROSS_BRAND.value, _P.CROSS_BRAND.label
    THIRD_PARTY = _P.THIRD_PARTY.value, _P.THIRD_PARTY.label


if set(Purpose.values) != {p.value for p in _OWN_SWITCH_PURPOSES}:
    raise ImproperlyConfigured("accounts.models.Purpose differs from the registry's own switches")


class PurposeConsent(models.Model):
    """Current state of one purpose for one customer; history is in ConsentEvent."""

    customer = models.ForeignKey(Customer, on_delete=models.CASCADE, related_name="consents")
    purpose = models.CharField(max_length=30, choices=Purpose.choices)
    granted = models.BooleanField()
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["customer", "purpose"], name="uniq_consent_purpose")
        ]

    def __str__(self) -> str:
        return f"{self.purpose}: {'on' if self.granted else 'off'}"


class ConsentEvent(models.Model):
    """Immutable history of every consent and use-toggle change: what, when, how, by whom."""

    customer = models.ForeignKey(Customer, on_delete=models.CASCADE, related_name="consent_events")
    purpose = models.CharField(max_length=30, blank=True)
    data_kind = models.CharField(max_length=60, blank=True)
    object_ref = models.CharField(max_length=80, blank=True)
    granted = models.BooleanField()
    channel = models.CharField(max_length=30)  # dashboard, widget, api, default, staff, gpc
    actor_label = models.CharField(max_length=120, blank=True)
    # A consent a brand collected itself (ingest): when it was given or refused there, and
    # the version of the wording shown; `channel` is then where ("checkout").
    collected_at = models.DateTimeField(null=True, blank=True)
    wording_version = models.CharField(max_length=40, blank=True)
    # Set by accounts.consent_history before the row is hashed (auto_now_add would reset it).
    created_at = models.DateTimeField(default=timezone.now, db_index=True)
    # The hash chain (accounts.consent_history): the previous row's hash and this row's.
    prev_hash = models.CharField(max_length=64, blank=True, default="")
    hash = models.CharField(max_length=64, blank=True, default="", db_index=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        # Append-only in PostgreSQL too (accounts.append_only has the one allowed path).
        triggers = [
            pgtrigger.Protect(name="append_only", operation=pgtrigger.Update | pgtrigger.Delete),
        ]

    def __str__(self) -> str:
        what = self.purpose or self.data_kind
        return f"{what} {'on' if self.granted else 'off'} via {self.channel}"

    def save(self, *args, **kwargs):
        if self.pk is not None:
            raise ValueError("Consent history is immutable.")
        super().save(*args, **kwargs)


class KindSetting(models.Model):
    """A whole data kind switched off ("keep but don't use") for one customer."""

    customer = models.ForeignKey(Customer, on_delete=models.CASCADE, related_name="kind_settings")
    data_kind = models.CharField(max_length=60)
    in_use = models.BooleanField(default=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["customer", "data_kind"], name="uniq_kind_setting")
        ]

    def __str__(self) -> str:
        return f"{self.data_kind}: {'in use' if self.in_use else 'kept, not used'}"


class ErasureTombstone(models.Model):
    """Left by a whole-account erasure so late ingest for that customer is dropped.

    Holds a digest of the brand's reference, never the reference or any content.
    """

    brand = models.ForeignKey(Brand, on_delete=models.CASCADE, related_name="+")
    ref_digest = models.CharField(max_length=64)
    erased_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["brand", "ref_digest"], name="uniq_tombstone")
        ]

    def __str__(self) -> str:
        return f"tombstone {self.ref_digest[:8]}"


class OutboxMessage(models.Model):
    """Work a request needs done later, recorded before any broker is involved.

    Published after commit; if the broker is down the row stays and the relay publishes
    it later, so nothing is lost. Payloads carry ids only, never personal content.
    """

    task_name = models.CharField(max_length=120)
    kwargs = models.JSONField(default=dict)
    dedupe_key = models.CharField(max_length=120, null=True, blank=True)
    countdown = models.PositiveIntegerField(default=0)
    attempts = models.PositiveIntegerField(default=0)
    last_error = models.CharField(max_length=300, blank=True)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)

    class Meta:
        ordering = ["id"]
        constraints = [
            models.UniqueConstraint(
                fields=["dedupe_key"],
                condition=models.Q(dedupe_key__isnull=False),
                name="uniq_outbox_dedupe",
            )
        ]

    def __str__(self) -> str:
        return f"{self.task_name} #{self.pk}"


class AccountSession(AbstractBaseSession):
    """Django's database session, plus the account the session data refers to.

    `account_id` is set on every save when the data names a user: signed in, or half-way
    through signing in (allauth's stashed login, e.g. waiting for the TOTP code), which
    allauth's own session records (UserSession) do not list. Erasure ends every session of
    the account with one indexed DELETE (accounts.sessions). A plain id, not a foreign key:
    a session is storage, not customer data shown on the dashboard.
    """

    account_id = models.BigIntegerField(null=True, blank=True, db_index=True)

    class Meta(AbstractBaseSession.Meta):
        db_table = "accounts_session"

    @classmethod
    def get_session_store_class(cls):
        from .sessions import SessionStore

        return SessionStore


class LinkTokenUse(models.Model):
    """A connect link's `jti`, consumed the first time the link is opened (single use).

    Holds no reference to the customer: the brand, the token's id and when it stops
    mattering (after its expiry a replay is refused as expired anyway, so the row can go).
    """

    brand = models.ForeignKey(Brand, on_delete=models.CASCADE, related_name="+")
    jti = models.CharField(max_length=100)
    used_at = models.DateTimeField(auto_now_add=True)
    expires_at = models.DateTimeField(db_index=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["brand", "jti"], name="uniq_link_token_jti")]

    def __str__(self) -> str:
        return f"link token {self.jti[:8]}… ({self.brand_id})"
