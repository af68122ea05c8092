"""Pages around the widget: the brand-facing docs (routed in recommendations/urls.py)."""

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from accounts.links import LINK_AUDIENCE
from accounts.models import WebhookEventType
from accounts.tokens import TOKEN_MAX_LIFETIME
from transparency import registry

from .auth import TOKEN_AUDIENCE


def widget_docs(request: HttpRequest) -> HttpResponse:
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
