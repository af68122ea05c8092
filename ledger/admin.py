"""Staff admin for the ledger: the catalog is edited here; customers' data is only viewed.

Encrypted fields never appear in lists or searches (they are ciphertext in SQL anyway);
they are shown decrypted only on an object's page, and every such view writes an
access-log row for the customer it belongs to (accounts.admin_access).
"""

from django.contrib import admin

from accounts.admin_access import CustomerDataAdmin, CustomerDataInline

from .models import (
    Address,
    ContactPreference,
    Event,
    Message,
    Order,
    OrderLine,
    PartnerAttribute,
    PaymentMethod,
    PersonalFact,
    Product,
)


@admin.register(Product)
class ProductAdmin(admin.ModelAdmin):
    list_display = ["name", "brand", "category", "price", "active"]
    list_filter = ["brand", "category", "active"]
    search_fields = ["name", "external_id"]
    list_select_related = ["brand"]


_DATAPOINT_FILTERS = ["source", "in_use", "brand"]


@admin.register(PersonalFact)
class PersonalFactAdmin(CustomerDataAdmin):
    list_display = ["pk", "customer", "field", "brand", "set_by", "set_at", "source", "in_use"]
    list_filter = ["field", *_DATAPOINT_FILTERS]
    search_fields = ["customer__public_id", "customer__user__username"]
    list_select_related = ["customer", "brand"]
    raw_id_fields = ["customer"]


@admin.register(Address)
class AddressAdmin(CustomerDataAdmin):
    list_display = ["pk", "customer", "label", "city", "country", "is_default", "source", "in_use"]
    list_filter = ["country", "is_default", *_DATAPOINT_FILTERS]
    # label and city are encrypted: SQL cannot search them.
    search_fields = ["customer__public_id", "customer__user__username"]
    list_select_related = ["customer", "brand"]
    raw_id_fields = ["customer"]


@admin.register(PaymentMethod)
class PaymentMethodAdmin(CustomerDataAdmin):
    list_display = [
        "pk",
        "customer",
        "card_brand",
        "last4",
        "exp_month",
        "exp_year",
        "is_default",
        "processor",
    ]
    list_filter = ["card_brand", "processor", "is_default", *_DATAPOINT_FILTERS]
    search_fields = ["customer__public_id", "customer__user__username", "last4"]
    list_select_related = ["customer", "brand"]
    raw_id_fields = ["customer"]
    # The token is a credential for the processor: staff see that one exists, not its value.
    exclude = ["processor_token"]


@admin.register(ContactPreference)
class ContactPreferenceAdmin(CustomerDataAdmin):
    list_display = [
        "pk",
        "customer",
        "brand",
        "channel",
        "quiet_start",
        "quiet_end",
        "best_hour_override",
    ]
    list_filter = ["channel", *_DATAPOINT_FILTERS]
    search_fields = ["customer__public_id", "customer__user__username"]
    list_select_related = ["customer", "brand"]
    raw_id_fields = ["customer"]


class OrderLineInline(CustomerDataInline):
    model = OrderLine
    raw_id_fields = ["product"]


@admin.register(Order)
class OrderAdmin(CustomerDataAdmin):
    list_display = ["pk", "external_id", "customer", "brand", "placed_at", "total", "is_gift"]
    list_filter = ["is_gift", *_DATAPOINT_FILTERS]
    search_fields = ["external_id", "customer__public_id", "customer__user__username"]
    list_select_related = ["customer", "brand"]
    raw_id_fields = ["customer", "shipping_address", "payment_method"]
    date_hierarchy = "placed_at"
    inlines = [OrderLineInline]


@admin.register(OrderLine)
class OrderLineAdmin(CustomerDataAdmin):
    list_display = ["pk", "order", "product", "quantity", "unit_price"]
    list_filter = ["order__brand"]
    search_fields = ["order__external_id", "product__name", "order__customer__public_id"]
    list_select_related = ["order", "product"]
    raw_id_fields = ["order", "product"]


@admin.register(Event)
class EventAdmin(CustomerDataAdmin):
    list_display = ["pk", "customer", "brand", "kind", "product", "occurred_at", "in_use"]
    list_filter = ["kind", *_DATAPOINT_FILTERS]
    search_fields = ["external_id", "customer__public_id", "customer__user__username"]
    list_select_related = ["customer", "brand", "product"]
    raw_id_fields = ["customer", "product"]
    date_hierarchy = "occurred_at"


@admin.register(Message)
class MessageAdmin(CustomerDataAdmin):
    list_display = ["pk", "brand", "customer", "category", "channel", "state", "due_at"]
    list_filter = ["state", "channel", "category"]
    search_fields = ["external_id", "customer__public_id"]
    list_select_related = ["customer", "brand"]
    raw_id_fields = ["customer"]


@admin.register(PartnerAttribute)
class PartnerAttributeAdmin(CustomerDataAdmin):
    list_display = ["pk", "customer", "brand", "partner_name", "name", "purpose", "obtained_at"]
    list_filter = ["purpose", *_DATAPOINT_FILTERS]
    search_fields = ["customer__public_id", "customer__user__username", "partner_name", "name"]
    list_select_related = ["customer", "brand"]
    raw_id_fields = ["customer"]
