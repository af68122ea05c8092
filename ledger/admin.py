"""Staff admin for the ledger.

Encrypted fields never appear in lists or searches (they are ciphertext in SQL anyway);
they are shown decrypted only on an object's change view, and every such view writes an
access-log row for the customer it belongs to.
"""

from django.contrib import admin
from django.db import transaction

from accounts.audit import Actor, audit_record
from transparency import registry

from .models import (
    Address,
    ContactPreference,
    Event,
    Order,
    OrderLine,
    PaymentMethod,
    PersonalFact,
    Product,
)


def data_kind_for(model) -> str:
    label = model._meta.label_lower
    for kind in registry.all_kinds():
        if kind.model.lower() == label:
            return kind.name
    raise LookupError(f"{label} is not registered with the transparency registry")


class CustomerDataAdmin(admin.ModelAdmin):
    """Logs every staff view of one customer's data point (change view, GET)."""

    customer_path = "customer"

    def customer_of(self, obj):
        for part in self.customer_path.split("__"):
            obj = getattr(obj, part)
        return obj

    def change_view(self, request, object_id, form_url="", extra_context=None):
        if request.method == "GET":
            obj = self.get_object(request, admin.utils.unquote(object_id))
            if obj is not None and self.has_view_or_change_permission(request, obj):
                with transaction.atomic():
                    audit_record(
                        actor=Actor.staff(request.user),
                        customer=self.customer_of(obj),
                        data_kind=data_kind_for(self.model),
                        action="view",
                        object_ref=str(obj.pk),
                        reason="admin",
                    )
        return super().change_view(request, object_id, form_url, extra_context)


@admin.register(Product)
class ProductAdmin(admin.ModelAdmin):
    list_display = ["name", "brand", "category", "price", "active"]
    list_filter = ["brand", "category", "active"]
    search_fields = ["name", "external_id"]
    list_select_related = ["brand"]


_DATAPOINT_FILTERS = ["source", "in_use", "brand"]


@admin.register(PersonalFact)
class PersonalFactAdmin(CustomerDataAdmin):
    list_display = ["pk", "customer", "field", "brand", "source", "in_use", "updated_at"]
    list_filter = ["field", *_DATAPOINT_FILTERS]
    search_fields = ["customer__public_id", "customer__user__username"]
    list_select_related = ["customer", "brand"]
    raw_id_fields = ["customer"]


@admin.register(Address)
class AddressAdmin(CustomerDataAdmin):
    list_display = ["pk", "customer", "label", "city", "country", "is_default", "source", "in_use"]
    list_filter = ["country", "is_default", *_DATAPOINT_FILTERS]
    search_fields = ["customer__public_id", "customer__user__username", "label", "city"]
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


class OrderLineInline(admin.TabularInline):
    model = OrderLine
    extra = 0
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
    customer_path = "order__customer"
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
