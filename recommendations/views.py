"""The dashboard's Recommendations page and its actions (plain POST forms; htmx optional)."""

from django.contrib import messages
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_POST

from accounts.decorators import customer_required

from . import selectors, services
from .models import Recommendation


@customer_required
def recommendations(request):
    context = selectors.recommendations_page(user=request.user)
    if not any(not g["cold_start"] for g in context["groups"]):
        # Nothing personal (yet): say so, and show what is popular instead.
        context["popular"] = selectors.popular_products(n=8)
    return render(request, "recommendations/page.html", context)


@customer_required
@require_POST
def not_interested(request, pk: int):
    customer = request.customer
    rec = get_object_or_404(Recommendation, pk=pk, customer=customer)
    services.not_interested_record(customer=customer, product_id=rec.product_id)
    messages.success(request, f"Noted: we will stop suggesting {rec.product.name}.")
    return redirect("dashboard:recommendations")
