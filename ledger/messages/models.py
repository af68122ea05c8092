"""A message from a brand to one customer: one row, scheduled in the database.

The dispatcher (ledger.messages.dispatch) claims due rows with a conditional UPDATE, so a
worker or broker restart loses or duplicates nothing. The row keeps why its channel and
time were chosen (in words) and which kinds of data the decision read, for the customer's
"Messages" page.
"""

import uuid

from django.db import models

from accounts.models import Brand, Customer


class Category(models.TextChoices):
    SERVICE = "service", "About your account, orders or data"
    MARKETING = "marketing", "Marketing"


class MessageChannel(models.TextChoices):
    EMAIL = "email", "Email"
    SMS = "sms", "SMS"
    POST = "post", "Post"
    INBOX = "inbox", "Your Candor inbox only"


class MessageState(models.TextChoices):
    SCHEDULED = "scheduled", "Scheduled"
    SENDING = "sending", "Being sent"
    SENT = "sent", "Sent"
    HELD = "held", "Kept in your inbox"
    SUPPRESSED = "suppressed", "Not sent"
    FAILED = "failed", "Could not be sent"


class Destination(models.TextChoices):
    """Where a message's button may lead: dashboard pages only, never a free URL."""

    LEGAL_NAME = "legal_name", "Your legal name"
    BIRTHDAY = "birthday", "Your birthday"
    PHONE = "phone", "Your phone number"
    CONTACT_EMAIL = "contact_email", "Your contact email"
    ADDRESS = "address", "Your address"
    PAYMENT_METHODS = "payment_methods", "Your payment methods"
    CONTACT_PREFERENCES = "contact_preferences", "Your contact preferences"
    ORDER = "order", "An order"
    MY_DATA = "my_data", "My data"


class Message(models.Model):
    customer = models.ForeignKey(Customer, on_delete=models.CASCADE, related_name="+")
    brand = models.ForeignKey(Brand, on_delete=models.CASCADE, related_name="+")
    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    external_id = models.CharField(max_length=100)
    category = models.CharField(max_length=12, choices=Category.choices)
    subject = models.CharField(max_length=150)
    body = models.TextField()
    action_label = models.CharField(max_length=40, blank=True)
    action_destination = models.CharField(max_length=30, choices=Destination.choices, blank=True)
    # The brand's own order id, for the "order" destination.
    action_ref = models.CharField(max_length=100, blank=True)
    channel = models.CharField(max_length=10, choices=MessageChannel.choices)
    state = models.CharField(
        max_length=12, choices=MessageState.choices, default=MessageState.SCHEDULED
    )
    due_at = models.DateTimeField(null=True, blank=True)
    why_channel = models.CharField(max_length=300)
    why_time = models.CharField(max_length=300)
    data_used = models.JSONField(default=list)  # kind names the decision read
    outcome = models.CharField(max_length=300, blank=True)  # why not sent, or failed
    claim = models.CharField(max_length=32, blank=True)
    lease_until = models.DateTimeField(null=True, blank=True)
    attempts = models.PositiveSmallIntegerField(default=0)
    sent_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["brand", "external_id"], name="uniq_message_ext_id")
        ]
        indexes = [
            models.Index(fields=["state", "due_at"]),
            models.Index(fields=["customer", "-created_at"]),
        ]

    def __str__(self) -> str:
        return f"“{self.subject}” ({self.get_channel_display()}, {self.get_state_display()})"
