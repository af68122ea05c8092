"""Security middleware of our own (the rest is Django's, django-csp's and allauth's)."""

from django.conf import settings
from django.utils.cache import patch_cache_control


class NoStoreMiddleware:
    """`Cache-Control: no-store` on personal pages.

    Every response to a signed-in user, and every response under the personal prefixes
    (dashboard, allauth, API, admin, health), so no shared cache or browser back button
    keeps a copy of someone's data.
    """

    def __init__(self, get_response):
        self.get_response = get_response
        self.prefixes = tuple(settings.NO_STORE_PATH_PREFIXES)

    def __call__(self, request):
        response = self.get_response(request)
        user = getattr(request, "user", None)
        if _widget_public(request, response):
            pass  # the widget's popular list: nothing personal, cacheable (widget_api)
        elif response.get("Cache-Control") in ALREADY_NO_STORE:
            pass  # already as private as it gets (the widget's personal answers)
        elif request.path.startswith(self.prefixes) or (user is not None and user.is_authenticated):
            patch_cache_control(response, no_store=True, private=True)
        if "Permissions-Policy" not in response:
            response["Permissions-Policy"] = (
                "camera=(), microphone=(), geolocation=(), payment=(), usb=()"
            )
        return response


WIDGET_API_PREFIX = "/api/v1/widget/"
# What patch_cache_control(no_store=True, private=True) leaves on an empty or such header.
ALREADY_NO_STORE = frozenset({"private, no-store", "no-store, private"})


def _widget_public(request, response) -> bool:
    """A widget API answer its view marked public (the brand's popular list, the same for
    every visitor) keeps its own Cache-Control; every other widget answer (personal, errors,
    events) gets no-store like the rest of the API."""
    return request.path.startswith(WIDGET_API_PREFIX) and "public" in response.get(
        "Cache-Control", ""
    )
