"""Reveal one masked field for a typed reason (mounted through the admin site's gate)."""

from django.core.exceptions import PermissionDenied
from django.http import Http404
from django.shortcuts import render
from django.views.decorators.http import require_http_methods

from .. import registry
from . import masking


@require_http_methods(["GET", "POST"])
def field_reveal(request, kind: str, pk: int, field: str):
    try:
        found = registry.get(kind)
    except KeyError as exc:
        raise Http404 from exc
    model = found.get_model()
    if not request.user.has_perm(f"{model._meta.app_label}.view_{model._meta.model_name}"):
        raise PermissionDenied
    if field not in masking.personal_fields(found):
        raise Http404
    obj = model._default_manager.filter(pk=pk).first()
    if obj is None:
        raise Http404
    context = {
        "title": "Reveal a personal field",
        "kind": found,
        "obj": obj,
        "field": model._meta.get_field(field).verbose_name,
        "value": None,
        "error": "",
        "min_reason": masking.MIN_REASON,
    }
    if request.method == "POST":
        try:
            context["value"] = masking.field_reveal(
                staff=request.user,
                kind=found,
                obj=obj,
                field=field,
                reason=request.POST.get("reason", ""),
            )
        except masking.RevealRefused as exc:
            context["error"] = str(exc)
    return render(request, "transparency/field_reveal.html", context)
