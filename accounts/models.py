import uuid

from django.conf import settings
from django.db import models


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

    def __str__(self) -> str:
        return f"{self.actor_kind} {self.action} {self.data_kind}"

    def save(self, *args, **kwargs):
        if self.pk is not None:
            raise ValueError("Audit events are append-only.")
        super().save(*args, **kwargs)
