from django.contrib.auth.decorators import login_required
from django.shortcuts import redirect, render

from . import selectors

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


@login_required
def home(request):
    context = {"summary": selectors.dashboard_summary(user=request.user)}
    return render(request, "dashboard/home.html", context)


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
