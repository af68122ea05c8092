from datetime import timedelta

from django.contrib import admin
from django.db.models import Q
from django.db.models.functions import Coalesce
from django.utils import timezone

from accounts.admin_access import CustomerDataAdmin, ReadOnlyMixin

from .bridge import unconfirmed_since
from .models import DataRequest, DataRequestState, DeletionReceipt, ErasureNotice


class OverdueFilter(admin.SimpleListFilter):
    title = "deadline"
    parameter_name = "overdue"

    def lookups(self, request, model_admin):
        return [("yes", "Overdue"), ("soon", "Due within 7 days")]

    def queryset(self, request, queryset):
        open_ = ~Q(state=DataRequestState.DONE)
        now = timezone.now()
        # The deadline in force: the extended one once extended (Art. 12(3)).
        queryset = queryset.annotate(due_at=Coalesce("extended_until", "deadline"))
        if self.value() == "yes":
            return queryset.filter(open_, due_at__lt=now)
        if self.value() == "soon":
            return queryset.filter(open_, due_at__gte=now, due_at__lt=now + timedelta(days=7))
        return queryset


@admin.register(DataRequest)
class DataRequestAdmin(CustomerDataAdmin):
    """The record of each request; the overdue filter finds any past the deadline in force.
    Staff work on requests in the DSR console (/admin/dsr/)."""

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


class ConfirmationFilter(admin.SimpleListFilter):
    title = "brand's confirmation"
    parameter_name = "confirmation"

    def lookups(self, request, model_admin):
        return [
            ("late", "Not confirmed past the threshold"),
            ("waiting", "Waiting"),
            ("confirmed", "Confirmed"),
        ]

    def queryset(self, request, queryset):
        if self.value() == "late":
            return queryset.filter(confirmed_at__isnull=True, requested_at__lt=unconfirmed_since())
        if self.value() == "waiting":
            return queryset.filter(confirmed_at__isnull=True)
        if self.value() == "confirmed":
            return queryset.filter(confirmed_at__isnull=False)
        return queryset


@admin.register(ErasureNotice)
class ErasureNoticeAdmin(ReadOnlyMixin, admin.ModelAdmin):
    """Deletions told to brands; the filter finds those a brand has not confirmed after
    ERASURE_CONFIRMATION_DAYS. Kinds and times only."""

    list_display = ["public_id", "brand", "requested_at", "confirmed_at", "is_late", "receipt"]
    list_filter = [ConfirmationFilter, "brand"]
    search_fields = ["public_id", "event_id", "receipt__public_id"]
    list_select_related = ["brand", "receipt"]
    date_hierarchy = "requested_at"

    @admin.display(boolean=True, description="late")
    def is_late(self, obj) -> bool:
        return obj.confirmed_at is None and obj.requested_at < unconfirmed_since()
