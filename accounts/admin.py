from allauth.account import admin as allauth_account_admin
from allauth.account.models import EmailAddress
from allauth.mfa import admin as allauth_mfa_admin
from allauth.mfa.models import Authenticator
from allauth.usersessions import admin as allauth_usersessions_admin
from allauth.usersessions.models import UserSession
from django.contrib import admin
from django.contrib.auth import admin as auth_admin
from django.contrib.auth import get_user_model

from transparency.admin_access import CustomerDataAdmin, CustomersRowsReadOnlyMixin, ReadOnlyMixin

from .keys import server_key_revoke, widget_key_revoke
from .models import (
    AuditEvent,
    Brand,
    Customer,
    CustomerBrand,
    ErasureTombstone,
    OutboxMessage,
    ServerKey,
    WidgetKey,
)


@admin.register(Brand)
class BrandAdmin(admin.ModelAdmin):
    list_display = ["name", "slug", "sensitivity", "created_at"]
    list_filter = ["sensitivity"]
    search_fields = ["name", "slug"]
    prepopulated_fields = {"slug": ["name"]}


@admin.register(Customer)
class CustomerAdmin(CustomerDataAdmin):
    list_display = ["public_id", "user", "created_at"]
    search_fields = ["public_id", "user__username"]
    list_select_related = ["user"]
    raw_id_fields = ["user"]
    readonly_fields = ["public_id", "created_at"]


@admin.register(AuditEvent)
class AuditEventAdmin(CustomerDataAdmin):
    list_display = ["created_at", "actor_kind", "actor_label", "customer", "data_kind", "action"]
    list_filter = ["actor_kind", "action", "data_kind"]
    search_fields = ["customer__public_id", "actor_label", "object_ref"]
    list_select_related = ["customer"]


class ReadOnlyAdmin(ReadOnlyMixin, admin.ModelAdmin):
    pass


@admin.register(ServerKey)
class ServerKeyAdmin(admin.ModelAdmin):
    """Keys are created with `manage.py brand_key` (the secret is shown once, there)."""

    list_display = ["prefix", "brand", "label", "created_at", "last_used_at", "revoked_at"]
    list_filter = ["brand", ("revoked_at", admin.EmptyFieldListFilter)]
    search_fields = ["prefix", "label", "brand__name"]
    list_select_related = ["brand"]
    fields = ["brand", "label", "prefix", "created_at", "last_used_at", "revoked_at"]
    readonly_fields = ["brand", "prefix", "created_at", "last_used_at", "revoked_at"]
    actions = ["revoke"]

    def has_add_permission(self, request):
        return False

    @admin.action(description="Revoke the selected server keys")
    def revoke(self, request, queryset):
        for key in queryset:
            server_key_revoke(key=key)


@admin.register(WidgetKey)
class WidgetKeyAdmin(admin.ModelAdmin):
    list_display = ["key", "brand", "created_at", "revoked_at"]
    list_filter = ["brand", ("revoked_at", admin.EmptyFieldListFilter)]
    search_fields = ["key", "brand__name"]
    list_select_related = ["brand"]
    readonly_fields = ["brand", "key", "allowed_origins", "created_at", "revoked_at"]
    actions = ["revoke"]

    def has_add_permission(self, request):
        return False

    @admin.action(description="Revoke the selected widget keys")
    def revoke(self, request, queryset):
        for key in queryset:
            widget_key_revoke(key=key)


@admin.register(CustomerBrand)
class CustomerBrandAdmin(CustomerDataAdmin):
    list_display = ["external_ref", "brand", "customer", "share_across_brands", "created_at"]
    list_filter = ["brand", "share_across_brands"]
    search_fields = ["external_ref", "customer__public_id"]
    list_select_related = ["brand", "customer"]


@admin.register(ErasureTombstone)
class ErasureTombstoneAdmin(ReadOnlyAdmin):
    list_display = ["ref_digest", "brand", "erased_at"]
    list_filter = ["brand"]
    search_fields = ["ref_digest"]
    list_select_related = ["brand"]


@admin.register(OutboxMessage)
class OutboxMessageAdmin(ReadOnlyAdmin):
    list_display = ["task_name", "dedupe_key", "attempts", "last_error", "created_at"]
    list_filter = ["task_name"]
    search_fields = ["task_name", "dedupe_key"]


# --- users and allauth's rows: staff's managed here, customers' only viewed (logged) -------
# A customer's account, email addresses, authenticators and sessions change through their
# owner (allauth's pages) or erasure, never from admin.

User = get_user_model()
for _model in (User, EmailAddress, Authenticator, UserSession):
    admin.site.unregister(_model)


@admin.register(User)
class UserAdmin(CustomersRowsReadOnlyMixin, auth_admin.UserAdmin):
    pass


@admin.register(EmailAddress)
class EmailAddressAdmin(CustomersRowsReadOnlyMixin, allauth_account_admin.EmailAddressAdmin):
    def make_verified(self, request, queryset) -> None:
        super().make_verified(request, queryset.filter(user__customer__isnull=True))


@admin.register(Authenticator)
class AuthenticatorAdmin(CustomersRowsReadOnlyMixin, allauth_mfa_admin.AuthenticatorAdmin):
    pass


@admin.register(UserSession)
class UserSessionAdmin(CustomersRowsReadOnlyMixin, allauth_usersessions_admin.UserSessionAdmin):
    pass
