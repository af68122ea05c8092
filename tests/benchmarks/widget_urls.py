"""bench_widget's urlconf: every URL of the site, plus `/bench/bare/`, the P1 baseline."""

from django.http import HttpRequest, JsonResponse
from django.urls import path

from config.urls import urlpatterns as site_urlpatterns

# The same shape and size as a widget answer, with no work behind it.
BARE_PAYLOAD = {
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


def bare(request: HttpRequest) -> JsonResponse:
    return JsonResponse(BARE_PAYLOAD)


# Last, where the site's urlconf used to append it: resolved after every site pattern.
urlpatterns = [*site_urlpatterns, path("bench/bare/", bare)]
