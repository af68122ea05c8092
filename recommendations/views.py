"""The dashboard's Recommendations page and its actions (plain POST forms; htmx optional).

Actions name what they are about, a product or one of the customer's data points, never a
result row: every recompute replaces the rows, so a page of any age still works.
"""

from django.contrib import messages
from django.db.models import Q
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_POST

from accounts.decorators import customer_required
from accounts.models import CustomerBrand
from ledger.models import Event, Order, Product

from . import selectors, services
from .models import Recommendation


@customer_required
def recommendations(request):
    context = selectors.recommendations_page(user=request.user)
    if not any(not g["cold_start"] for g in context["groups"]):
        # Nothing personal (yet): say so, and show what is popular instead.
        context["popular"] = selectors.popular_products(n=8)
    return render(request, "recommendations/page.html", context)


def _their_brands(customer) -> Q:
    """Brands this customer deals with: results, activity, orders or a link."""
    return (
        Q(brand__in=Recommendation.objects.filter(customer=customer).values("brand_id"))
        | Q(brand__in=Event.objects.filter(customer=customer).values("brand_id"))
        | Q(brand__in=Order.objects.filter(customer=customer).values("brand_id"))
        | Q(brand__in=CustomerBrand.objects.filter(customer=customer).values("brand_id"))
    )


@customer_required
@require_POST
def not_interested(request, product_id: int):
    customer = request.customer
    product = get_object_or_404(Product.objects.filter(_their_brands(customer)), pk=product_id)
    services.not_interested_record(customer=customer, product_id=product.pk)
    messages.success(request, f"Noted: we will stop suggesting {product.name}.")
    return redirect("dashboard:recommendations")
