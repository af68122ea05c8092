"""Thin views: the published JWKS, the customer's signed consent receipts and the check of
their consent history chain."""

from django.http import HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404
from django.urls import reverse
from django.views.decorators.cache import cache_control
from django.views.decorators.http import require_GET

from accounts.decorators import customer_required
from accounts.models import ConsentEvent

from . import chain, receipts


@require_GET
@cache_control(public=True, max_age=300)
def jwks(request):
    return JsonResponse(receipts.jwks(), content_type="application/jwk-set+json")


def _policy_url(request) -> str:
    return request.build_absolute_uri(reverse("transparency_statement"))


@customer_required
@require_GET
def consent_receipts(request):
    """Every consent change as a signed receipt, in one downloadable JSON document."""
    doc = {
        "jwks_uri": request.build_absolute_uri(reverse("jwks")),
        "receipts": receipts.customer_receipts(
            customer=request.customer, policy_url=_policy_url(request)
        ),
    }
    response = JsonResponse(doc, json_dumps_params={"indent": 1})
    response["Content-Disposition"] = 'attachment; filename="consent-receipts.json"'
    return response


@customer_required
@require_GET
def consent_receipt(request, pk: int):
    event = get_object_or_404(ConsentEvent, pk=pk, customer=request.customer)
    brands = [b.brand.name for b in request.customer.brand_links.select_related("brand")]
    claims = receipts.receipt_claims(
        event=event,
        customer=request.customer,
        brands=sorted(brands),
        policy_url=_policy_url(request),
    )
    response = HttpResponse(receipts.receipt_sign(claims), content_type="application/jose")
    response["Content-Disposition"] = f'attachment; filename="consent-receipt-{pk}.jws"'
    return response


@customer_required
@require_GET
def consent_chain(request):
    """The customer checks their own consent history chain (JSON: ok, rows, broken)."""
    return JsonResponse(chain.chain_verify(customer_id=request.customer.pk).as_dict())


# --- records of processing (staff; mounted through the admin site: staff + MFA) ------------


def art30_json(request):
    from . import art30

    response = JsonResponse(art30.records(), json_dumps_params={"indent": 1})
    response["Content-Disposition"] = 'attachment; filename="records-of-processing.json"'
    return response


def art30_csv(request):
    from . import art30

    response = HttpResponse(art30.records_csv(), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = 'attachment; filename="records-of-processing.csv"'
    return response
