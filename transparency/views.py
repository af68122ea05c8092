from allauth.account.decorators import reauthentication_required
from django.contrib import messages
from django.contrib.auth import logout
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ObjectDoesNotExist
from django.core.paginator import Paginator
from django.http import Http404, HttpResponseRedirect, StreamingHttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from accounts.decorators import customer_required

from . import bridge, export, overview, registry, selectors, services
from .models import DeletionReceipt, ReceiptScope
from .standards import gpc

# Sections of the dashboard that later work fills in; until then they say so.
PLANNED = {
    "profile": ("Profile", "Your name, birthday and contact details, as the brand holds them."),
    "saved": ("Saved details", "Addresses, payment methods and contact preferences."),
    "orders": ("Orders", "Your purchase history, with gifts marked and one-click reorder."),
    "activity": ("Activity", "Every view, click and search the brand recorded, by brand."),
    "recommendations": (
        "Recommendations",
        "What our models suggest for you, and the data points behind each suggestion.",
    ),
    "data": ("My data", "Every data point held about you: see it, switch it off, delete it."),
}


def root(request):
    return redirect("dashboard:home" if request.user.is_authenticated else "account_login")


@customer_required
def home(request):
    return render(request, "dashboard/home.html", overview.home_context(customer=request.customer))


@login_required
def planned(request, section: str):
    title, description = PLANNED[section]
    return render(
        request,
        "dashboard/planned.html",
        {"title": title, "description": description, "section": section},
    )


@login_required
def security(request):
    return render(
        request, "dashboard/security.html", selectors.security_overview(user=request.user)
    )


# --- My data ----------------------------------------------------------------------------
# Thin views over transparency.selectors (reads) and transparency.services (writes).


def _kind(name: str):
    try:
        return registry.get(name)
    except KeyError as exc:
        raise Http404("Unknown kind of data") from exc


def _int_or_none(value) -> int | None:
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


def _flag(request, name: str = "in_use") -> bool:
    return request.POST.get(name) in ("1", "on", "true", "yes")


def _back(request, fallback: str) -> HttpResponseRedirect:
    target = request.POST.get("next") or request.GET.get("next") or ""
    if target and url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return redirect(target)
    return redirect(fallback)


@customer_required
def my_data(request):
    if "kind" in request.GET:  # links from before deep links existed: /me/data/?kind=&pk=
        return _old_deep_link(request)
    source = request.GET.get("source", "")
    if source not in {s.value for s in registry.Source}:
        source = ""
    # An id that is not one of the customer's brands matches none of their rows.
    brand_id = _int_or_none(request.GET.get("brand"))
    found = selectors.my_data_overview(user=request.user, source=source, brand_id=brand_id)
    if found is None:
        raise Http404("No customer record")
    context = {
        **found,
        **overview.my_data_sections(found["kinds"]),
        "sources": [(s.value, s.label) for s in registry.Source],
        "fixed_purposes": selectors.purposes_without_switch(),
        "gpc": gpc.gpc_notice(customer_id=found["customer_id"]),
        "source": source,
        "brand_id": brand_id,
    }
    return render(request, "transparency/my_data.html", context)


def _old_deep_link(request):
    kind_ = _kind(request.GET["kind"])
    pk = _int_or_none(request.GET.get("pk"))
    if pk is None:
        return redirect("dashboard:data_kind", kind=kind_.name)
    return redirect("dashboard:data_point", kind=kind_.name, pk=pk)


@customer_required
def data_kind(request, kind: str):
    customer = request.customer
    kind_ = _kind(kind)
    brand_id = _int_or_none(request.GET.get("brand"))
    page, items = selectors.kind_items(
        customer=customer, kind=kind_, page=request.GET.get("page", 1), brand_id=brand_id
    )
    context = {
        "kind": kind_,
        "source_label": kind_.source.label,
        "purposes": selectors.purpose_labels(kind_),
        "retention": selectors.retention_text(kind_.retention_days),
        "page": page,
        "items": items,
        "kind_in_use": selectors.kind_setting_in_use(customer=customer, kind_name=kind_.name),
        "switchable": selectors.kind_is_switchable(kind_),
        "point_toggle": selectors.kind_has_point_toggle(kind_),
        "not_deletable": kind_.not_deletable_alone,
        "brand_id": brand_id,
        "point": _int_or_none(request.GET.get("point")),
    }
    return render(request, "transparency/kind.html", context)


@customer_required
@require_GET
def data_point(request, kind: str, pk: int):
    """A link to one data point: its kind's page, at the page that holds it, highlighted."""
    kind_ = _kind(kind)
    page = selectors.kind_item_page(customer=request.customer, kind=kind_, pk=pk)
    if page is None:
        raise Http404("No such data point")
    url = reverse("dashboard:data_kind", args=[kind_.name])
    return redirect(f"{url}?page={page}&point={pk}#item-{pk}")


@customer_required
@require_POST
def data_point_use(request, kind: str, pk: int):
    customer = request.customer
    kind_ = _kind(kind)
    in_use = _flag(request)
    try:
        changed = services.datapoint_set_in_use(
            customer=customer, kind_name=kind_.name, pk=pk, in_use=in_use
        )
    except (KeyError, ObjectDoesNotExist) as exc:
        raise Http404("No such data point") from exc
    item = selectors.kind_item(customer=customer, kind=kind_, pk=pk)
    said = _switched_message(f"“{item.name}”", in_use)
    if request.htmx:
        context = {"kind": kind_, "item": item, "announce": said, "next": _htmx_page(request)}
        return render(request, "transparency/_point_toggle.html", context)
    if changed:
        messages.success(request, said)
    return _back(request, reverse("dashboard:data_kind", args=[kind_.name]))


def _switched_message(what: str, in_use: bool) -> str:
    if in_use:
        return f"{what} is in use again."
    return f"{what} is switched off: we keep it, but nothing reads it any more."


def _htmx_page(request) -> str:
    """The page an htmx request came from, so a swapped-in form still returns there."""
    return request.htmx.current_url_abs_path or ""


@customer_required
@require_POST
def data_kind_use(request, kind: str):
    customer = request.customer
    kind_ = _kind(kind)
    in_use = _flag(request)
    try:
        changed = services.kind_set_in_use(customer=customer, kind_name=kind_.name, in_use=in_use)
    except KeyError as exc:
        raise Http404("This kind cannot be switched off") from exc
    said = _switched_message(f"All {kind_.label.lower()}", in_use)
    if request.htmx:
        context = {
            "kind": kind_,
            "in_use": in_use,
            "switchable": True,
            "announce": said,
            "next": _htmx_page(request),
        }
        return render(request, "transparency/_kind_toggle.html", context)
    if changed:
        messages.success(request, said)
    return _back(request, reverse("dashboard:data_kind", args=[kind_.name]))


@customer_required
@require_POST
def data_purpose(request, purpose: str):
    customer = request.customer
    granted = _flag(request, "granted")
    try:
        changed = services.purpose_set_granted(customer=customer, purpose=purpose, granted=granted)
    except KeyError as exc:
        raise Http404("Unknown purpose") from exc
    label = registry.PURPOSES.get(purpose, purpose)
    said = f"{label}: {'allowed' if granted else 'no longer allowed'}."
    if request.htmx:
        row = next(
            r for r in selectors.purposes_state(customer=customer) if r["purpose"] == purpose
        )
        return render(request, "transparency/_purpose_toggle.html", {"p": row, "announce": said})
    if changed:
        messages.success(request, said)
    return _back(request, reverse("dashboard:data"))


# --- deletion -------------------------------------------------------------------------


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


# --- export -----------------------------------------------------------------------------


@login_required
def data_export(request):
    return render(request, "transparency/export.html", {})


def _stream(request, fmt: str):
    customer = request.customer
    services.export_record(customer=customer, fmt=fmt)
    stamp = timezone.now().strftime("%Y%m%d")
    if fmt == "json":
        chunks, content_type, ext = (
            export.json_chunks(customer=customer),
            "application/json",
            "json",
        )
    else:
        chunks, content_type, ext = export.html_chunks(customer=customer), "text/html", "html"
    response = StreamingHttpResponse(
        (chunk.encode() for chunk in chunks), content_type=f"{content_type}; charset=utf-8"
    )
    response["Content-Disposition"] = f'attachment; filename="candor-export-{stamp}.{ext}"'
    response["Cache-Control"] = "no-store"
    return response


@customer_required
@reauthentication_required
def data_export_json(request):
    return _stream(request, "json")


@customer_required
@reauthentication_required
def data_export_html(request):
    return _stream(request, "html")


# --- access log -------------------------------------------------------------------------


@customer_required
def access_log(request):
    customer = request.customer
    page = selectors.access_log(customer=customer, page=request.GET.get("page", 1))
    days = selectors.access_log_days(page.object_list)
    return render(request, "transparency/access_log.html", {"page": page, "days": days})


# --- public statement -------------------------------------------------------------------


def statement(request):
    return render(request, "transparency/statement.html", selectors.statement())
