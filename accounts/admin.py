from allauth.account import admin as allauth_account_admin
from allauth.account.models import EmailAddress
from allauth.mfa import admin as allauth_mfa_admin
from allauth.mfa.models import Authenticator
from allauth.usersessions import admin as allauth_usersessions_admin
from allauth.usersessions.models import UserSession
from django import forms
from django.contrib import admin
from django.contrib.auth import admin as auth_admin
from django.contrib.auth import get_user_model
from django.template.response import TemplateResponse

from accounts.admin_access import CustomerDataAdmin, CustomersRowsReadOnlyMixin, ReadOnlyMixin

from .keys import server_key_revoke, widget_key_revoke
from .models import (
    AuditEvent,
    Brand,
    Customer,
    CustomerBrand,
    ErasureTombstone,
    OutboxMessage,
    ServerKey,
    WebhookDelivery,
    WebhookEndpoint,
    WebhookEventType,
    WidgetKey,
)
from .webhooks import (
    webhook_endpoint_create,
    webhook_endpoint_disable,
    webhook_endpoint_rotate_secret,
    webhook_event_types_validate,
    webhook_url_validate,
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


# --- webhooks: endpoints managed by staff, the delivery log read-only ------------------------


class WebhookEndpointForm(forms.ModelForm):
    url = forms.URLField(max_length=500, assume_scheme="https")
    event_types = forms.MultipleChoiceField(
        choices=WebhookEventType.choices,
        widget=forms.CheckboxSelectMultiple,
        required=False,
        help_text="None ticked: every event type.",
    )

    class Meta:
        model = WebhookEndpoint
        fields = ["brand", "url", "description", "event_types"]

    def clean_url(self):
        return webhook_url_validate(self.cleaned_data["url"])

    def clean_event_types(self):
        return webhook_event_types_validate(self.cleaned_data["event_types"])


@admin.register(WebhookEndpoint)
class WebhookEndpointAdmin(admin.ModelAdmin):
    """The signing secret is generated on save and shown once, in the confirmation message."""

    form = WebhookEndpointForm
    list_display = ["url", "brand", "description", "created_at", "disabled_at", "failed"]
    list_filter = ["brand", ("disabled_at", admin.EmptyFieldListFilter)]
    search_fields = ["url", "description", "brand__name"]
    list_select_related = ["brand"]
    readonly_fields = ["created_at", "disabled_at"]
    actions = ["rotate_secret", "disable"]

    def get_readonly_fields(self, request, obj=None):
        return [*self.readonly_fields, "brand"] if obj else self.readonly_fields

    @admin.display(description="failed deliveries")
    def failed(self, obj) -> int:
        return obj.deliveries.filter(state="failed").count()

    def save_model(self, request, obj, form, change):
        if change:
            return super().save_model(request, obj, form, change)
        endpoint, secret = webhook_endpoint_create(
            brand=obj.brand,
            url=obj.url,
            event_types=obj.event_types,
            description=obj.description,
        )
        obj.pk, obj.created_at, obj.secret = endpoint.pk, endpoint.created_at, secret
        obj._new_secret = secret

    def response_add(self, request, obj, post_url_continue=None):
        # Rendered once, never stored in a message (messages live in the session table).
        return self._secrets_page(request, [(obj, obj._new_secret)])

    @admin.action(description="Rotate the signing secret (shown once)")
    def rotate_secret(self, request, queryset):
        pairs = [(e, webhook_endpoint_rotate_secret(endpoint=e)) for e in queryset]
        return self._secrets_page(request, pairs)

    def _secrets_page(self, request, pairs):
        context = {
            **self.admin_site.each_context(request),
            "title": "Webhook signing secret",
            "pairs": pairs,
            "opts": self.model._meta,
        }
        response = TemplateResponse(request, "admin/accounts/webhook_secret.html", context)
        response["Cache-Control"] = "no-store"
        return response

    @admin.action(description="Disable (what is still waiting is given up on)")
    def disable(self, request, queryset):
        for endpoint in queryset:
            webhook_endpoint_disable(endpoint=endpoint)


class StateFilter(admin.SimpleListFilter):
    title = "state"
    parameter_name = "state"

    def lookups(self, request, model_admin):
        return WebhookDelivery._meta.get_field("state").choices

    def queryset(self, request, queryset):
        return queryset.filter(state=self.value()) if self.value() else queryset


@admin.register(WebhookDelivery)
class WebhookDeliveryAdmin(ReadOnlyAdmin):
    """The delivery log: outcomes and times, never the body (cleared once done anyway)."""

    list_display = [
        "event_type",
        "event_id",
        "endpoint",
        "state",
        "attempts",
        "last_status_code",
        "last_error",
        "created_at",
        "first_attempt_at",
        "delivered_at",
        "failed_at",
        "next_attempt_at",
    ]
    list_filter = [StateFilter, "event_type", "endpoint__brand"]
    search_fields = ["event_id"]
    list_select_related = ["endpoint__brand"]
    exclude = ["payload", "claim", "order_key"]
    date_hierarchy = "created_at"


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
