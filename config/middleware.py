"""Security middleware of our own (the rest is Django's, django-csp's and allauth's)."""

from corsheaders import middleware as corsheaders_middleware
from corsheaders.conf import conf as cors_conf
from django.conf import settings
from django.utils.cache import patch_cache_control

# The response attribute a view sets to say "CORS checked: this origin may read me".
CORS_CHECKED_ORIGIN = "cors_checked_origin"


class CorsMiddleware(corsheaders_middleware.CorsMiddleware):
    """django-cors-headers, plus one shortcut for answers whose view checked the origin.

    The widget's origins are registered per publishable key, so the widget view checks the
    Origin itself (recommendations.widget.api._admit) and marks its answer with the origin
    it accepted; such an answer already says `Vary: Origin`. For it this only sets
    `Access-Control-Allow-Origin`, instead of asking again through the check_request_enabled
    signal, parsing the origin and reading a dozen settings (about 50 us a request measured
    in process: P1). Everything else, preflights and the widget's own errors included, goes
    through django-cors-headers unchanged, and so does a marked answer whenever the settings
    ask for more than that one header (credentials, exposed headers, private network).
    """

    def add_response_headers(self, request, response):
        origin = getattr(response, CORS_CHECKED_ORIGIN, None)
        if origin is None or request.method == "OPTIONS" or not _cors_plain():
            return super().add_response_headers(request, response)
        response[corsheaders_middleware.ACCESS_CONTROL_ALLOW_ORIGIN] = origin
        return response


def _cors_plain() -> bool:
    """Whether the CORS settings ask for nothing beyond Allow-Origin on a simple answer."""
    return not (
        cors_conf.CORS_ALLOW_CREDENTIALS
        or cors_conf.CORS_EXPOSE_HEADERS
        or cors_conf.CORS_ALLOW_PRIVATE_NETWORK
        or cors_conf.CORS_ALLOW_ALL_ORIGINS
    )


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
            pass  # the widget's popular list: nothing personal, cacheable (widget.api)
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
