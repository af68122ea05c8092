"""The signed-in customer, found one way for every dashboard view."""

from functools import wraps

from django.contrib.auth.decorators import login_required
from django.shortcuts import render

from .models import Customer


def customer_required(view):
    """Signed in, and a customer; sets `request.customer`.

    Staff accounts without a customer record get a clear 404 page, never a 500.
    """

    @login_required
    @wraps(view)
    def wrapper(request, *args, **kwargs):
        customer = Customer.objects.filter(user=request.user).first()
        if customer is None:
            return render(request, "accounts/no_customer.html", status=404)
        request.customer = customer
        return view(request, *args, **kwargs)

    return wrapper
