"""The customer's ledger pages: Profile, Saved details, Orders, Activity.

Thin views: forms validate, services write (audited), selectors read. Every object is
looked up under the signed-in customer, so anyone else's id answers 404.
"""

from __future__ import annotations

from django.contrib import messages
from django.http import Http404, HttpResponseNotAllowed
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse

from accounts.audit import Actor
from accounts.decorators import customer_required

from . import selectors, services
from .forms import (
    ActivityFilterForm,
    AddressForm,
    ContactPreferenceForm,
    GiftForm,
    PaymentMethodForm,
    ProfileForm,
    focus_field,
)
from .models import Address, Order, PaymentMethod
from .payments import get_gateway


def _actor(request) -> Actor:
    return Actor.customer(request.customer)


# --- Profile -------------------------------------------------------------------------


@customer_required
def profile(request):
    customer = request.customer
    facts = selectors.personal_facts(customer=customer)
    if request.method == "POST":
        form = ProfileForm(request.POST)
        if form.is_valid():
            changed = services.personal_facts_update(
                customer=customer, values=form.fact_values(), actor=_actor(request)
            )
            messages.success(request, "Your details are saved." if changed else "Nothing changed.")
            return redirect("dashboard:profile")
    else:
        form = ProfileForm(initial={row.field: row.value for row in facts})
        focus_field(form, request.GET.get("focus"))
    return render(request, "ledger/profile.html", {"facts": facts, "form": form})


# --- Saved details -------------------------------------------------------------------


def _saved_context(request, **overrides) -> dict:
    customer = request.customer
    context = {
        "addresses": list(selectors.addresses(customer=customer)),
        "payment_methods": list(selectors.payment_methods(customer=customer)),
        "contact_rows": [
            {
                "row": row,
                "form": ContactPreferenceForm(
                    prefix=f"c{row.brand.pk if row.brand else 'all'}",
                    initial=_contact_initial(row.pref),
                ),
            }
            for row in selectors.contact_preferences(customer=customer)
        ],
        "address_form": AddressForm(),
        "card_form": PaymentMethodForm(),
    }
    context.update(overrides)
    return context


def _contact_initial(pref) -> dict:
    if pref is None:
        return {"channel": "email", "marketing_allowed": "1"}
    return {
        "channel": pref.channel,
        "quiet_start": pref.quiet_start,
        "quiet_end": pref.quiet_end,
        "best_hour_override": pref.best_hour_override,
        "time_zone": pref.time_zone,
        "marketing_allowed": "1" if pref.marketing_allowed else "0",
    }


@customer_required
def saved(request):
    if request.method != "GET":
        return HttpResponseNotAllowed(["GET"])
    return render(request, "ledger/saved.html", _saved_context(request))


@customer_required
def address_add(request):
    if request.method == "POST":
        form = AddressForm(request.POST)
        if form.is_valid():
            services.address_create(
                customer=request.customer, actor=_actor(request), **form.address_values()
            )
            messages.success(request, "Address saved.")
            return redirect(reverse("dashboard:saved") + "#addresses")
    else:
        form = AddressForm()
        focus_field(form, request.GET.get("focus"))
    return render(request, "ledger/address_form.html", {"form": form, "address": None})


@customer_required
def address_edit(request, pk: int):
    address = get_object_or_404(Address, pk=pk, customer=request.customer)
    if request.method == "POST":
        form = AddressForm(request.POST, instance=Address(customer=request.customer))
        if form.is_valid():
            changed = services.address_update(
                address=address, actor=_actor(request), **form.address_values()
            )
            messages.success(request, "Address updated." if changed else "Nothing changed.")
            return redirect(reverse("dashboard:saved") + "#addresses")
    else:
        form = AddressForm(instance=address)
        focus_field(form, request.GET.get("focus"))
    return render(request, "ledger/address_form.html", {"form": form, "address": address})


@customer_required
def address_delete(request, pk: int):
    address = get_object_or_404(Address, pk=pk, customer=request.customer)
    if request.method != "POST":
        return HttpResponseNotAllowed(["POST"])
    services.address_delete(address=address, actor=_actor(request))
    messages.success(request, "Address deleted.")
    return redirect(reverse("dashboard:saved") + "#addresses")


@customer_required
def address_default(request, pk: int):
    address = get_object_or_404(Address, pk=pk, customer=request.customer)
    if request.method != "POST":
        return HttpResponseNotAllowed(["POST"])
    services.address_set_default(address=address, actor=_actor(request))
    messages.success(request, f"{address.label or 'This address'} is now your default address.")
    return redirect(reverse("dashboard:saved") + "#addresses")


@customer_required
def card_add(request):
    gateway = get_gateway()
    if request.method == "POST":
        form = PaymentMethodForm(request.POST, gateway=gateway)
        if form.is_valid() and form.card is not None:
            method = services.payment_method_create(
                customer=request.customer,
                card=form.card,
                processor=gateway.name,
                actor=_actor(request),
            )
            messages.success(request, f"Card ending {method.last4} saved.")
            return redirect(reverse("dashboard:saved") + "#cards")
    else:
        form = PaymentMethodForm(gateway=gateway)
        focus_field(form, request.GET.get("focus"))
    return render(request, "ledger/card_form.html", {"form": form})


@customer_required
def card_delete(request, pk: int):
    method = get_object_or_404(PaymentMethod, pk=pk, customer=request.customer)
    if request.method != "POST":
        return HttpResponseNotAllowed(["POST"])
    services.payment_method_delete(method=method, actor=_actor(request))
    messages.success(request, "Payment method removed.")
    return redirect(reverse("dashboard:saved") + "#cards")


@customer_required
def card_default(request, pk: int):
    method = get_object_or_404(PaymentMethod, pk=pk, customer=request.customer)
    if request.method != "POST":
        return HttpResponseNotAllowed(["POST"])
    services.payment_method_set_default(method=method, actor=_actor(request))
    messages.success(request, f"Card ending {method.last4} is now your default.")
    return redirect(reverse("dashboard:saved") + "#cards")


@customer_required
def contact_set(request, brand_id: int | None = None):
    customer = request.customer
    brand = None
    if brand_id is not None:
        brand = selectors.contact_brand(customer=customer, brand_id=brand_id)
        if brand is None:
            raise Http404("Not one of your brands.")
    if request.method != "POST":
        return HttpResponseNotAllowed(["POST"])
    prefix = f"c{brand.pk if brand else 'all'}"
    form = ContactPreferenceForm(request.POST, prefix=prefix)
    if not form.is_valid():
        context = _saved_context(request)
        for item in context["contact_rows"]:
            if item["row"].brand == brand:
                item["form"] = form
        context["error_form"] = form
        context["error_form_title"] = (
            f"How and when {brand.name if brand else 'every brand'} may reach you"
        )
        return render(request, "ledger/saved.html", context, status=400)
    changed = services.contact_preference_set(
        customer=customer, brand=brand, actor=_actor(request), **form.cleaned_data
    )
    messages.success(request, "Contact preferences saved." if changed else "Nothing changed.")
    return redirect(reverse("dashboard:saved") + "#contact")


# --- Orders --------------------------------------------------------------------------


@customer_required
def orders(request):
    page = selectors.orders_page(customer=request.customer, page=request.GET.get("page"))
    return render(request, "ledger/orders.html", {"page_obj": page})


def _orders_url(page: int | None) -> str:
    url = reverse("dashboard:orders")
    return f"{url}?page={page}" if page and page > 1 else url


@customer_required
def order_gift(request, pk: int):
    order = get_object_or_404(Order, pk=pk, customer=request.customer)
    if request.method != "POST":
        return HttpResponseNotAllowed(["POST"])
    form = GiftForm(request.POST)
    if not form.is_valid():
        messages.error(request, "That request was not understood; nothing changed.")
        return redirect("dashboard:orders")
    services.order_set_gift(
        order=order, is_gift=form.cleaned_data["is_gift"], actor=_actor(request)
    )
    if request.htmx:
        row = selectors.order_row(customer=request.customer, pk=order.pk)
        return render(
            request,
            "ledger/_order_row.html",
            {"order": row, "page_number": form.cleaned_data["page"]},
        )
    return redirect(_orders_url(form.cleaned_data["page"]) + f"#order-{order.pk}")


@customer_required
def order_reorder(request, pk: int):
    order = get_object_or_404(Order, pk=pk, customer=request.customer)
    if request.method != "POST":
        return HttpResponseNotAllowed(["POST"])
    try:
        result = services.order_reorder(order=order, actor=_actor(request))
    except services.LedgerError as exc:
        messages.error(request, str(exc))
        return redirect("dashboard:orders")
    note = (
        f" {result.skipped} item(s) are no longer sold and were left out." if result.skipped else ""
    )
    messages.success(request, f"Reordered: order {result.order.pk} is placed.{note}")
    return redirect("dashboard:orders")


# --- Activity ------------------------------------------------------------------------


@customer_required
def activity(request):
    customer = request.customer
    brands = selectors.activity_brands(customer=customer)
    form = ActivityFilterForm(request.GET, brands=brands)
    filters = form.filters()
    page = selectors.events_page(customer=customer, page=request.GET.get("page"), **filters)
    query = request.GET.copy()
    query.pop("page", None)
    for name in ("brand", "kind"):
        if not filters.get(name):
            query.pop(name, None)
    return render(
        request,
        "ledger/activity.html",
        {"page_obj": page, "form": form, "filters": filters, "query": query.urlencode()},
    )
