"""Staff access to customer data in Django admin: read-only, and every look is logged.

Customer data changes only through services, which audit each change in its own
transaction, keep caches and results in step and leave receipts: the customer's dashboard,
the brand's ingest API, erasure. An admin form or delete button would skip all of that
(a deleted address would stay in caches and models with no receipt, an edited one would
not show in the customer's access log), so the admin classes here may view and never add,
change or delete. Because Django refuses a delete whose cascade reaches objects the user
may not delete, this also stops a user, brand or customer being deleted from admin with
customer data under it.

Every GET of one object's page writes an access-log row for the customer it belongs to
(B4); lists show no encrypted values and log nothing.
"""

from django.contrib import admin
from django.contrib.auth import get_user_model
from django.db import models, transaction

from transparency import registry

from .audit import Actor, audit_record
from .crypto import EncryptedTextField
from .locks import customers_lock

UNMASKED_PERMISSION = "accounts.view_unmasked"
# Never personal, even in a text field: the brand's own id and choice-like codes.
NOT_PERSONAL = {"external_id", "processor", "currency"}


def kind_for(model) -> registry.DataKind:
    label = model._meta.label_lower
    for kind in registry.all_kinds():
        if kind.model.lower() == label:
            return kind
    raise LookupError(f"{label} is not registered with the transparency registry")


def customer_of(obj, kind: registry.DataKind):
    """The customer an object belongs to, by its kind's owner path (None: nobody's now)."""
    for part in kind.owner.split("__") if kind.owner else ():
        obj = getattr(obj, part, None)
        if obj is None:
            return None
    return obj


def sees_unmasked(user) -> bool:
    return user.has_perm(UNMASKED_PERMISSION)


def personal_fields(kind: registry.DataKind) -> list[str]:
    """The fields masked for the support role (quality B4): in kinds of medium or high
    sensitivity, every encrypted or free-text field that is not a secret (secrets are
    never shown at all), a choice list, a relation or the brand's own id."""
    if kind.sensitivity not in ("medium", "high"):
        return []
    secret = set(kind.secret_fields)  # never shown at all, so not masked either
    found = []
    for field in kind.get_model()._meta.concrete_fields:
        text = isinstance(field, EncryptedTextField | models.CharField | models.TextField)
        if (
            text
            and not field.choices
            and not field.is_relation
            and field.name not in NOT_PERSONAL
            and field.name not in secret
        ):
            found.append(field.name)
    return found


def log_staff_view(request, obj) -> None:
    """One access-log row: this staff user opened this object's page."""
    kind = kind_for(type(obj))
    customer = customer_of(obj, kind)
    with transaction.atomic():
        if customer is not None and not customers_lock([customer.pk]):
            return  # erased meanwhile: there is nobody left to tell
        audit_record(
            actor=Actor.staff(request.user),
            customer=customer,
            data_kind=kind.name,
            action="view",
            object_ref=str(obj.pk),
            reason="admin",
        )


class ReadOnlyMixin:
    """No add, change or delete from admin (records, and customer data, which changes
    through services only)."""

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


class LoggedViewMixin:
    """Each GET of one object's page is logged for the customer it belongs to."""

    def log_view_of(self, obj) -> bool:
        return True

    def change_view(self, request, object_id, form_url="", extra_context=None):
        if request.method == "GET":
            obj = self.get_object(request, admin.utils.unquote(object_id))
            if (
                obj is not None
                and self.has_view_or_change_permission(request, obj)
                and self.log_view_of(obj)
            ):
                log_staff_view(request, obj)
        return super().change_view(request, object_id, form_url, extra_context)


MASKED_PREFIX = "masked__"


class _Named:
    """An object shown under another name; everything else is the object's."""

    def __init__(self, obj, name: str):
        self._obj, self._name = obj, name

    def __str__(self) -> str:
        return self._name

    def __getattr__(self, attr: str):
        return getattr(self._obj, attr)


class MaskedFieldsMixin:
    """Personal fields shown masked to staff without `accounts.view_unmasked` (the support
    role), each with a link to reveal it for a typed reason (transparency.standards.masking)."""

    def _masked(self, request) -> set[str]:
        if sees_unmasked(request.user):
            return set()
        return set(personal_fields(kind_for(self.model)))

    def _swap(self, names, masked: set[str]) -> list:
        out = []
        for name in names:
            name = f"{MASKED_PREFIX}{name}" if name in masked else name
            if name not in out:
                out.append(name)
        return out

    def get_readonly_fields(self, request, obj=None):
        found = list(super().get_readonly_fields(request, obj))
        masked = self._masked(request)
        return [*found, *(f"{MASKED_PREFIX}{n}" for n in sorted(masked))] if masked else found

    def get_fields(self, request, obj=None):
        return self._swap(super().get_fields(request, obj), self._masked(request))

    def get_list_display(self, request):
        return self._swap(super().get_list_display(request), self._masked(request))

    def render_change_form(self, request, context, *args, **kwargs):
        # The object's own name (title, breadcrumbs) can hold personal fields ("Home
        # (London)"): the support role sees the kind and id instead.
        obj = context.get("original")
        if obj is not None and self._masked(request):
            label = f"{self.model._meta.verbose_name} #{obj.pk}"
            context.update(subtitle=label, original=_Named(obj, label))
        return super().render_change_form(request, context, *args, **kwargs)

    def __getattr__(self, name: str):
        if not name.startswith(MASKED_PREFIX):
            raise AttributeError(name)
        field = name.removeprefix(MASKED_PREFIX)
        kind = kind_for(self.model)

        def show(obj):
            from django.urls import reverse
            from django.utils.html import format_html

            url = reverse("field_reveal", args=[kind.name, obj.pk, field])
            return format_html('•••••  <a href="{}">Reveal (reason needed)</a>', url)

        show.short_description = self.model._meta.get_field(field).verbose_name
        return show


class CustomerDataAdmin(MaskedFieldsMixin, LoggedViewMixin, ReadOnlyMixin, admin.ModelAdmin):
    """View-only admin for a registered kind of customer data; each object view is logged
    (the kind and the way to its customer come from the transparency registry); personal
    fields masked for the support role."""


class CustomersRowsReadOnlyMixin(LoggedViewMixin):
    """For models holding staff's rows and customers' alike (users, email addresses, MFA
    authenticators, sessions): staff's are managed as usual; a customer's row may only be
    viewed, each view logged, and no form may attach a row to a customer's user."""

    def is_customers(self, obj) -> bool:
        return customer_of(obj, kind_for(self.model)) is not None

    def log_view_of(self, obj) -> bool:
        return self.is_customers(obj)

    def has_change_permission(self, request, obj=None):
        if obj is not None and self.is_customers(obj):
            return False
        return super().has_change_permission(request, obj)

    def has_delete_permission(self, request, obj=None):
        if obj is not None and self.is_customers(obj):
            return False
        return super().has_delete_permission(request, obj)

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        if db_field.related_model is get_user_model():
            kwargs["queryset"] = get_user_model()._default_manager.filter(customer__isnull=True)
        return super().formfield_for_foreignkey(db_field, request, **kwargs)


class CustomerDataInline(ReadOnlyMixin, admin.TabularInline):
    """A read-only inline of customer data (viewed as part of its parent, which is logged)."""

    extra = 0
