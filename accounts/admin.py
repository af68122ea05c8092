from django.contrib import admin

from .models import AuditEvent, Brand, Customer


@admin.register(Brand)
class BrandAdmin(admin.ModelAdmin):
    list_display = ["name", "slug", "sensitivity", "created_at"]
    list_filter = ["sensitivity"]
    search_fields = ["name", "slug"]
    prepopulated_fields = {"slug": ["name"]}


@admin.register(Customer)
class CustomerAdmin(admin.ModelAdmin):
    list_display = ["public_id", "user", "created_at"]
    search_fields = ["public_id", "user__username"]
    list_select_related = ["user"]
    raw_id_fields = ["user"]
    readonly_fields = ["public_id", "created_at"]


@admin.register(AuditEvent)
class AuditEventAdmin(admin.ModelAdmin):
    list_display = ["created_at", "actor_kind", "actor_label", "customer", "data_kind", "action"]
    list_filter = ["actor_kind", "action", "data_kind"]
    search_fields = ["customer__public_id", "actor_label", "object_ref"]
    list_select_related = ["customer"]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
