"""Pages around the widget: the brand-facing docs, and a bare JSON view for the benchmark."""

from django.conf import settings
from django.http import JsonResponse
from django.shortcuts import render

from accounts.links import LINK_AUDIENCE
from accounts.models import WebhookEventType
from accounts.tokens import TOKEN_MAX_LIFETIME
from transparency import registry

from .widget_auth import TOKEN_AUDIENCE


def widget_docs(request):
    """Public: how a brand embeds the widget and mints customer tokens, and what it reads."""
    kinds = [k for k in registry.all_kinds() if "widget" in k.touchpoints]
    context = {
        "kinds": kinds,
        "purposes": registry.PURPOSES,
        "audience": TOKEN_AUDIENCE,
        "max_lifetime_minutes": TOKEN_MAX_LIFETIME // 60,
        "origin": request.build_absolute_uri("/").rstrip("/"),
        # The brand bridge section (templates/bridge/docs_section.html).
        "link_audience": LINK_AUDIENCE,
        "event_types": WebhookEventType.choices,
        "confirmation_days": settings.ERASURE_CONFIRMATION_DAYS,
    }
    return render(request, "widget/docs.html", context)


# The same shape and size as a widget answer, with no work behind it: the P1 baseline.
_BARE_PAYLOAD = {
    "personalized": False,
    "label": "Popular right now",
    "slot": "home",
    "items": [
        {
            "product_id": i,
            "external_id": f"sku-{i}",
            "name": f"Product {i}",
            "category": "General",
            "price": "10.00",
            "image_url": "",
            "why": "",
        }
        for i in range(8)
    ],
}


def bench_bare(request):
    """Only routed when settings.BENCH_ENDPOINTS is on (tests/benchmarks/bench_widget.py)."""
    return JsonResponse(_BARE_PAYLOAD)
