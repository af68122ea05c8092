from datetime import timedelta

from django.contrib import admin
from django.db.models import Q
from django.utils import timezone

from .admin_access import CustomerDataAdmin
from .models import DataRequest, DataRequestState, DeletionReceipt


class OverdueFilter(admin.SimpleListFilter):
    title = "deadline"
    parameter_name = "overdue"

    def lookups(self, request, model_admin):
        return [("yes", "Overdue"), ("soon", "Due within 7 days")]

    def queryset(self, request, queryset):
        open_ = ~Q(state=DataRequestState.DONE)
        now = timezone.now()
        if self.value() == "yes":
            return queryset.filter(open_, deadline__lt=now)
        if self.value() == "soon":
            return queryset.filter(open_, deadline__gte=now, deadline__lt=now + timedelta(days=7))
        return queryset


@admin.register(DataRequest)
class DataRequestAdmin(CustomerDataAdmin):
    """The record of each export and erasure (all self-service, done at once); the overdue
    filter finds any that were not."""

    list_display = ["id", "kind", "state", "received_at", "deadline", "is_overdue", "customer"]
    list_filter = ["kind", "state", OverdueFilter]
    search_fields = ["customer__public_id"]
    list_select_related = ["customer"]
    raw_id_fields = ["customer", "receipt"]
    readonly_fields = ["received_at", "deadline", "completed_at", "receipt"]
    date_hierarchy = "received_at"

    @admin.display(boolean=True, description="overdue")
    def is_overdue(self, obj) -> bool:
        return obj.overdue


@admin.register(DeletionReceipt)
class DeletionReceiptAdmin(CustomerDataAdmin):
    list_display = ["public_id", "scope", "requested_at", "completed_at", "customer"]
    list_filter = ["scope"]
    search_fields = ["public_id", "customer__public_id"]
    list_select_related = ["customer"]
