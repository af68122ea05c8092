"""Dashboard views that delete: previews of what goes, the deletions themselves (one item,
a kind, a brand's data, the whole account) and the receipts they leave. Thin views over
transparency.erasure (writes) and transparency.selectors (reads)."""

from allauth.account.decorators import reauthentication_required
from django.contrib import messages
from django.contrib.auth import logout
from django.core.exceptions import ObjectDoesNotExist
from django.core.paginator import Paginator
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.views.decorators.http import require_http_methods, require_POST

from accounts.decorators import customer_required

from . import bridge, registry, selectors, services
from .models import DeletionReceipt, ReceiptScope


def kind_or_404(name: str) -> registry.DataKind:
    try:
        return registry.get(name)
    except KeyError as exc:
        raise Http404("Unknown kind of data") from exc


_kind = kind_or_404


def _preview(request, *, customer, plan, title: str, what: str, action: str, cancel: str):
    context = {
        "title": title,
        "what": what,
        "action": action,
        "cancel": cancel,
        "counts": selectors.impact_counts(customer=customer, plan=plan),
        "recommendations": selectors.recommendations_affected(customer=customer, plan=plan),
    }
    return render(request, "transparency/delete_preview.html", context)


def _delete(request, customer, *, scope: str, back: str, **target):
    try:
        receipt = services.data_delete(customer=customer, scope=scope, **target)
    except services.NothingToDelete:
        messages.info(request, "There was nothing left to delete.")
        return redirect(back)
    messages.success(request, f"Deleted. Your receipt lists {receipt.total} item(s).")
    return redirect("receipt", public_id=receipt.public_id)


@customer_required
@require_http_methods(["GET", "POST"])
def data_point_delete(request, kind: str, pk: int):
    customer = request.customer
    kind_ = _kind(kind)
    try:
        item = selectors.kind_item(customer=customer, kind=kind_, pk=pk)
    except ObjectDoesNotExist as exc:
        raise Http404("No such data point") from exc
    back = reverse("dashboard:data_kind", args=[kind_.name])
    try:
        plan = services.deletion_plan(
            customer=customer, scope=ReceiptScope.POINT, kind_name=kind_.name, pk=pk
        )
    except services.NotDeletable as exc:
        messages.info(request, str(exc))
        return redirect(back)
    if request.method == "POST":
        return _delete(
            request, customer, scope=ReceiptScope.POINT, back=back, kind_name=kind_.name, pk=pk
        )
    return _preview(
        request,
        customer=customer,
        plan=plan,
        title="Delete this item?",
        what=f"{kind_.label}: {item.summary}",
        action=request.path,
        cancel=back,
    )


@customer_required
@require_http_methods(["GET", "POST"])
def data_kind_delete(request, kind: str):
    customer = request.customer
    kind_ = _kind(kind)
    back = reverse("dashboard:data_kind", args=[kind_.name])
    try:
        plan = services.deletion_plan(
            customer=customer, scope=ReceiptScope.KIND, kind_name=kind_.name
        )
    except services.NotDeletable as exc:
        messages.info(request, str(exc))
        return redirect(back)
    if request.method == "POST":
        return _delete(request, customer, scope=ReceiptScope.KIND, back=back, kind_name=kind_.name)
    return _preview(
        request,
        customer=customer,
        plan=plan,
        title=f"Delete all your {kind_.label.lower()}?",
        what=kind_.description,
        action=request.path,
        cancel=back,
    )


@customer_required
@require_http_methods(["GET", "POST"])
def data_brand_delete(request, brand_id: int):
    customer = request.customer
    brand = next(
        (b for b in selectors.customer_brands(customer=customer) if b.pk == brand_id), None
    )
    if brand is None:
        raise Http404("No data from this brand")
    back = reverse("dashboard:data") + f"?brand={brand.pk}"
    plan = services.deletion_plan(customer=customer, scope=ReceiptScope.BRAND, brand_id=brand.pk)
    if request.method == "POST":
        return _delete(request, customer, scope=ReceiptScope.BRAND, back=back, brand_id=brand.pk)
    return _preview(
        request,
        customer=customer,
        plan=plan,
        title=f"Delete everything {brand.name} holds about you?",
        what="Every data point this brand recorded or received about you.",
        action=request.path,
        cancel=back,
    )


@customer_required
def data_account_delete(request):
    """GET: what closing the account removes. POST: erase (re-authentication first)."""
    customer = request.customer
    if request.method == "POST":
        return _account_erase(request)
    plan = services.deletion_plan(customer=customer, scope=ReceiptScope.ACCOUNT)
    context = {
        "title": "Close your account and delete everything?",
        "what": "Your account and every data point held about you, by every brand. You "
        "will be signed out. A receipt (kinds and counts only) stays so you can prove it.",
        "action": request.path,
        "cancel": reverse("dashboard:data"),
        "counts": selectors.impact_counts(customer=customer, plan=plan),
        "recommendations": [],
        "account": True,
    }
    return render(request, "transparency/delete_preview.html", context)


@require_POST
@customer_required
@reauthentication_required
def _account_erase(request):
    customer = request.customer
    receipt = services.account_erase(customer=customer)
    logout(request)
    if receipt is None:  # another request erased it a moment ago; its receipt stands
        messages.info(request, "Your account has been erased.")
        return redirect("account_login")
    return redirect("receipt", public_id=receipt.public_id)


def receipt(request, public_id):
    """Public by unguessable uuid: it shows only kinds, counts and times, no content, and
    names the brands only to the signed-in customer it belongs to (an erased account's
    receipt belongs to nobody: it names none)."""
    receipt_ = get_object_or_404(
        DeletionReceipt.objects.select_related("customer"), public_id=public_id
    )
    owner = receipt_.customer is not None and receipt_.customer.user_id == request.user.pk
    context = selectors.receipt_view(receipt=receipt_, name_brands=owner)
    context["notices"] = bridge.receipt_notices(receipt=receipt_, names=owner)
    response = render(request, "transparency/receipt.html", context)
    response["Cache-Control"] = "no-store"
    response["X-Robots-Tag"] = "noindex"
    return response


@customer_required
def data_receipts(request):
    customer = request.customer
    page = Paginator(DeletionReceipt.objects.filter(customer=customer), 50).get_page(
        request.GET.get("page", 1)
    )
    return render(request, "transparency/receipts.html", {"page": page})
