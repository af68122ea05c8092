"""L2: what the brand recorded about a customer.

Every customer row is a data point: it carries its source (provenance), the brand that
recorded it, and `in_use` — "keep but don't use": a point switched off stays visible to
the customer but is never read by training, scoring, explanations, the widget or messages.
"""

from decimal import Decimal

from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models

from accounts.crypto import EncryptedTextField
from accounts.models import Brand, Customer
from transparency.registry import SOURCE_CHOICES, Source


class Product(models.Model):
    """A brand's catalog item. Not customer data."""

    brand = models.ForeignKey(Brand, on_delete=models.CASCADE, related_name="products")
    external_id = models.CharField(max_length=100)
    name = models.CharField(max_length=200)
    category = models.CharField(max_length=100, blank=True)
    price = models.DecimalField(
        max_digits=10,
        decimal_places=2,
        default=Decimal("0"),
        validators=[MinValueValidator(Decimal("0"))],
    )
    image_url = models.URLField(blank=True)
    active = models.BooleanField(default=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["brand", "name"]
        constraints = [
            models.UniqueConstraint(fields=["brand", "external_id"], name="uniq_product_ext_id")
        ]

    def __str__(self) -> str:
        return self.name


class DataPoint(models.Model):
    customer = models.ForeignKey(Customer, on_delete=models.CASCADE, related_name="+")
    brand = models.ForeignKey(
        Brand, on_delete=models.CASCADE, null=True, blank=True, related_name="+"
    )
    source = models.CharField(max_length=20, choices=SOURCE_CHOICES, default=Source.PROVIDED)
    in_use = models.BooleanField(default=True)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        abstract = True


class SetBy(models.TextChoices):
    """Who last set a value the customer and a brand may both hold (provenance)."""

    CUSTOMER = "customer", "You"
    BRAND = "brand", "The brand"
    PARTNER = "partner", "A partner of the brand"


class Provenance(models.Model):
    """Who last set the value and when, plus a brand's differing value the customer's own
    correction overrode ("Northwind sent a different value on ..."): kept to be shown,
    never used. The customer's correction always wins (ledger.record_ingest)."""

    set_by = models.CharField(max_length=10, choices=SetBy.choices, default=SetBy.CUSTOMER)
    set_at = models.DateTimeField(null=True, blank=True)
    brand_sent_value = EncryptedTextField(blank=True, default="")
    brand_sent_at = models.DateTimeField(null=True, blank=True)
    brand_sent_by = models.ForeignKey(
        Brand, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )

    class Meta:
        abstract = True


class FactField(models.TextChoices):
    LEGAL_NAME = "legal_name", "Legal name"
    BIRTHDAY = "birthday", "Birthday"
    PHONE = "phone", "Phone"
    EMAIL = "email", "Contact email"


class PersonalFact(Provenance, DataPoint):
    """One fact about the customer (name, birthday, phone, contact email), encrypted."""

    field = models.CharField(max_length=20, choices=FactField.choices)
    value = EncryptedTextField()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["customer", "field"], name="uniq_fact_field")
        ]

    def __str__(self) -> str:
        return self.get_field_display()


class Address(Provenance, DataPoint):
    # The brand's own id for an address it sent (ingest upserts by it); None for the
    # customer's own addresses.
    external_id = models.CharField(max_length=100, null=True, blank=True)
    # Every free-text part is personal, so all are encrypted (max_length: forms and ingest).
    label = EncryptedTextField(max_length=40, blank=True, default="")
    recipient = EncryptedTextField()
    line1 = EncryptedTextField()
    line2 = EncryptedTextField(blank=True, default="")
    city = EncryptedTextField(max_length=100)
    postal_code = EncryptedTextField()
    country = models.CharField(max_length=2)
    is_default = models.BooleanField(default=False)

    class Meta:
        ordering = ["-is_default", "-created_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["customer"],
                condition=models.Q(is_default=True),
                name="one_default_address",
            ),
            models.UniqueConstraint(
                fields=["brand", "external_id"],
                condition=models.Q(external_id__isnull=False),
                name="uniq_address_ext_id",
            ),
        ]

    def __str__(self) -> str:
        return f"Address {self.label or self.pk} ({self.city})"


class PaymentMethod(DataPoint):
    """A card as the processor's token + brand + last 4 + expiry. Never the number or CVV."""

    processor = models.CharField(max_length=30, default="local-test")
    processor_token = models.CharField(max_length=120)
    card_brand = models.CharField(max_length=20)
    last4 = models.CharField(max_length=4)
    exp_month = models.PositiveSmallIntegerField(
        validators=[MinValueValidator(1), MaxValueValidator(12)]
    )
    exp_year = models.PositiveSmallIntegerField()
    is_default = models.BooleanField(default=False)

    class Meta:
        ordering = ["-is_default", "-created_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["customer"],
                condition=models.Q(is_default=True),
                name="one_default_payment_method",
            )
        ]

    def __str__(self) -> str:
        return f"{self.card_brand} •••• {self.last4}"


class Channel(models.TextChoices):
    EMAIL = "email", "Email"
    SMS = "sms", "SMS"
    POST = "post", "Post"
    NONE = "none", "Don't contact me"


class ContactPreference(Provenance, DataPoint):
    """How and when a brand may reach the customer (brand null: every brand).

    `channels` is the brand's per-channel record ({"email": true, "sms": false}) when the
    brand sent one; `channel` is then the first allowed of email, SMS, post (or none).
    """

    channel = models.CharField(max_length=10, choices=Channel.choices, default=Channel.EMAIL)
    quiet_start = models.TimeField(null=True, blank=True)
    quiet_end = models.TimeField(null=True, blank=True)
    # The customer's override of the learned "best time to reach you" (hour 0-23).
    best_hour_override = models.PositiveSmallIntegerField(
        null=True, blank=True, validators=[MaxValueValidator(23)]
    )
    # IANA name the hours above are in; "" means the brand's (or UTC for every brand).
    time_zone = models.CharField(max_length=64, blank=True, default="")
    # "Contacting you" for this brand's marketing (the one-click unsubscribe switches it
    # off); service messages ignore it. The account-wide purpose must be allowed too.
    marketing_allowed = models.BooleanField(default=True)
    channels = models.JSONField(default=dict, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["customer", "brand"], name="uniq_contact_pref")
        ]

    def __str__(self) -> str:
        return f"Contact by {self.get_channel_display()}"


class Order(DataPoint):
    external_id = models.CharField(max_length=100, null=True, blank=True)
    placed_at = models.DateTimeField(db_index=True)
    currency = models.CharField(max_length=3, default="EUR")
    total = models.DecimalField(max_digits=12, decimal_places=2, default=Decimal("0"))
    shipping_address = models.ForeignKey(
        Address, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    payment_method = models.ForeignKey(
        PaymentMethod, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    # A gift says nothing about the buyer's taste: it never shapes recommendations.
    is_gift = models.BooleanField(default=False)

    class Meta:
        ordering = ["-placed_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["brand", "external_id"],
                condition=models.Q(external_id__isnull=False),
                name="uniq_order_ext_id",
            )
        ]
        indexes = [models.Index(fields=["customer", "-placed_at"])]

    def __str__(self) -> str:
        return f"Order {self.external_id or self.pk}"


class OrderLine(models.Model):
    order = models.ForeignKey(Order, on_delete=models.CASCADE, related_name="lines")
    product = models.ForeignKey(Product, on_delete=models.PROTECT, related_name="+")
    quantity = models.PositiveIntegerField(default=1, validators=[MinValueValidator(1)])
    unit_price = models.DecimalField(max_digits=10, decimal_places=2)

    def __str__(self) -> str:
        return f"{self.quantity} × product {self.product_id}"


class EventKind(models.TextChoices):
    VIEW = "view", "Viewed"
    CLICK = "click", "Clicked"
    SEARCH = "search", "Searched"
    ADD_TO_CART = "add_to_cart", "Added to cart"
    RATING = "rating", "Rated"
    WIDGET_IMPRESSION = "widget_impression", "Saw a recommendation"
    WIDGET_CLICK = "widget_click", "Clicked a recommendation"
    NOT_INTERESTED = "not_interested", "Marked not interested"


class Event(DataPoint):
    external_id = models.CharField(max_length=100, null=True, blank=True)
    kind = models.CharField(max_length=20, choices=EventKind.choices)
    product = models.ForeignKey(
        Product, on_delete=models.CASCADE, null=True, blank=True, related_name="+"
    )
    value = models.FloatField(null=True, blank=True)  # the rating, for kind=rating
    # The terms, for kind=search: what a person searched for is personal, so encrypted.
    query = EncryptedTextField(max_length=200, blank=True, default="")
    occurred_at = models.DateTimeField()

    class Meta:
        ordering = ["-occurred_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["brand", "external_id"],
                condition=models.Q(external_id__isnull=False),
                name="uniq_event_ext_id",
            )
        ]
        indexes = [
            models.Index(fields=["customer", "-occurred_at"]),
            models.Index(fields=["brand", "occurred_at"]),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} ({self.occurred_at:%Y-%m-%d})"


class PartnerAttribute(DataPoint):
    """Something a brand received about the customer from a named partner (third-party
    enrichment). Stored only while the customer allows that purpose (ledger.record_ingest);
    the value is encrypted. `external_id` ("partner/name") is how the brand is told about
    a switch-off or deletion (webhooks)."""

    partner_name = models.CharField(max_length=100)
    name = models.CharField(max_length=100)
    value = EncryptedTextField(blank=True, default="")
    # The purpose the brand obtained it for (a key of transparency.registry.PURPOSES).
    purpose = models.CharField(max_length=30)
    obtained_at = models.DateTimeField()
    external_id = models.CharField(max_length=201)

    class Meta:
        ordering = ["-obtained_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["customer", "brand", "partner_name", "name"],
                name="uniq_partner_attribute",
            )
        ]

    def __str__(self) -> str:
        return f"{self.name} from {self.partner_name}"


# Messages live in their own modules (ledger.messages); the model is registered here.
from .messages.models import Message  # noqa: E402, F401
