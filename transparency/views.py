from allauth.account.decorators import reauthentication_required
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ObjectDoesNotExist
from django.http import Http404, HttpResponseRedirect, StreamingHttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_GET, require_POST

from accounts.decorators import customer_required

from . import export, overview, registry, selectors, services
from .delete_views import (  # noqa: F401  the URLconfs name them here
    _kind,
    data_account_delete,
    data_brand_delete,
    data_kind_delete,
    data_point_delete,
    data_receipts,
    receipt,
)
from .standards import gpc


def root(request):
    return redirect("dashboard:home" if request.user.is_authenticated else "account_login")


@customer_required
def home(request):
    return render(request, "dashboard/home.html", overview.home_context(customer=request.customer))


@login_required
def security(request):
    return render(
        request, "dashboard/security.html", selectors.security_overview(user=request.user)
    )


# --- My data ----------------------------------------------------------------------------
# Thin views over transparency.selectors (reads) and transparency.services (writes).


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
    label = registry.purpose_label(purpose)
    said = f"{label}: {'allowed' if granted else 'no longer allowed'}."
    if request.htmx:
        row = next(
            r for r in selectors.purposes_state(customer=customer) if r["purpose"] == purpose
        )
        return render(request, "transparency/_purpose_toggle.html", {"p": row, "announce": said})
    if changed:
        messages.success(request, said)
    return _back(request, reverse("dashboard:data"))


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
