"""The webhook tables (accounts.webhooks, accounts.webhook_dispatch): where each brand
wants to hear about its customers' choices, and each event on its way there.

Declared here to keep accounts/models.py short; they are accounts models like the others
(same app, same tables, re-exported by accounts.models).
"""

from django.db import models

from .crypto import EncryptedTextField


class WebhookEventType(models.TextChoices):
    CUSTOMER_CONNECTED = "customer.connected", "A customer connected your record to Candor"
    CONSENT_CHANGED = "consent.changed", "A customer allowed or withdrew a purpose"
    DATA_USE_CHANGED = "data.use_changed", "A customer switched a kind or a data point on or off"
    DATA_DELETED = "data.deleted", "A customer deleted data you sent"
    CUSTOMER_ERASED = "customer.erased", "A customer erased their account"
    DATA_UPDATED = "data.updated", "A customer changed details they provided (kind, no values)"


class WebhookEndpoint(models.Model):
    """Where a brand wants to hear about its customers' choices (Standard Webhooks)."""

    brand = models.ForeignKey(
        "accounts.Brand", on_delete=models.CASCADE, related_name="webhook_endpoints"
    )
    url = models.URLField(max_length=500)
    description = models.CharField(max_length=120, blank=True)
    # Event types (WebhookEventType values) this endpoint receives.
    event_types = models.JSONField(default=list)
    # `whsec_...`: shown once when the endpoint is created, encrypted at rest.
    secret = EncryptedTextField()
    created_at = models.DateTimeField(auto_now_add=True)
    disabled_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["brand", "pk"]

    def __str__(self) -> str:
        return f"{self.brand} → {self.url}"


class DeliveryState(models.TextChoices):
    PENDING = "pending", "Waiting"
    SENDING = "sending", "Being sent"
    DELIVERED = "delivered", "Delivered"
    FAILED = "failed", "Failed (gave up)"


class WebhookDelivery(models.Model):
    """One event on its way to one endpoint: claimed by the dispatcher, retried with backoff.

    The body is kept only until it is delivered or given up on; the log that stays holds
    the event's id and type, the attempts and their outcome. `order_key` is a digest of the
    brand's customer reference: deliveries with the same endpoint and key go out in order.
    """

    endpoint = models.ForeignKey(
        WebhookEndpoint, on_delete=models.CASCADE, related_name="deliveries"
    )
    event_id = models.CharField(max_length=40, db_index=True)  # the `webhook-id`
    event_type = models.CharField(max_length=40, choices=WebhookEventType.choices)
    order_key = models.CharField(max_length=64)
    payload = models.TextField(blank=True)
    state = models.CharField(
        max_length=10, choices=DeliveryState.choices, default=DeliveryState.PENDING
    )
    attempts = models.PositiveIntegerField(default=0)
    next_attempt_at = models.DateTimeField()
    lease_until = models.DateTimeField(null=True, blank=True)
    claim = models.CharField(max_length=32, blank=True)
    last_status_code = models.PositiveIntegerField(null=True, blank=True)
    last_error = models.CharField(max_length=200, blank=True)
    created_at = models.DateTimeField()
    first_attempt_at = models.DateTimeField(null=True, blank=True)
    last_attempt_at = models.DateTimeField(null=True, blank=True)
    delivered_at = models.DateTimeField(null=True, blank=True)
    failed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-pk"]
        verbose_name_plural = "webhook deliveries"
        constraints = [
            models.UniqueConstraint(fields=["endpoint", "event_id"], name="uniq_delivery_event")
        ]
        indexes = [
            models.Index(fields=["state", "next_attempt_at"]),
            models.Index(fields=["endpoint", "order_key", "state"]),
        ]

    def __str__(self) -> str:
        return f"{self.event_type} {self.event_id} → endpoint {self.endpoint_id}"
