"""The DSR console for staff: thin views over transparency.standards.dsr, mounted through
the admin site's gate (staff with MFA) and each checking the model permission it needs."""

from datetime import datetime, time

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.http import require_http_methods

from accounts.models import Customer

from ..models import DataRequestKind, DataRequestState
from . import dsr


def _need(request, perm: str) -> None:
    if not request.user.has_perm(f"transparency.{perm}_datarequest"):
        raise PermissionDenied


def _date(value: str) -> datetime:
    day = datetime.strptime(value, "%Y-%m-%d").date()
    return timezone.make_aware(datetime.combine(day, time(23, 59)))


def _act(request) -> None:
    _need(request, "change")
    action = request.POST.get("action", "")
    try:
        if action == "log":
            customer = Customer.objects.filter(public_id=request.POST.get("customer")).first()
            if customer is None:
                raise dsr.DsrRefused("No customer with that id.")
            dsr.dsr_create(customer=customer, kind=request.POST.get("kind", ""), staff=request.user)
        elif action == "extend":
            dsr.dsr_extend(
                request_id=int(request.POST["request"]),
                staff=request.user,
                until=_date(request.POST.get("until", "")),
                reason=request.POST.get("reason", ""),
            )
        elif action == "state":
            dsr.dsr_set_state(
                request_id=int(request.POST["request"]),
                staff=request.user,
                state=request.POST.get("state", ""),
            )
        else:
            raise dsr.DsrRefused("Unknown action.")
    except (dsr.DsrRefused, ValueError, KeyError) as exc:
        messages.error(request, str(exc) or "That did not work.")
    else:
        messages.success(request, "Done, and written to the customer's access log.")


@require_http_methods(["GET", "POST"])
def console(request):
    _need(request, "view")
    if request.method == "POST":
        _act(request)
        return redirect("dsr_console")
    state = request.GET.get("state", "")
    if state not in DataRequestState.values:
        state = ""
    context = {
        "title": "Data subject requests",
        "rows": dsr.dsr_rows(state=state),
        "stats": dsr.dsr_stats(),
        "state": state,
        "states": DataRequestState.choices,
        "staff_kinds": [
            (k.value, k.label) for k in (DataRequestKind.ACCESS, DataRequestKind.CORRECTION)
        ],
        "soon_days": dsr.SOON_DAYS,
        "can_change": request.user.has_perm("transparency.change_datarequest"),
    }
    return render(request, "transparency/dsr_console.html", context)


def console_csv(request):
    _need(request, "view")
    response = HttpResponse(dsr.dsr_csv(), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = 'attachment; filename="data-subject-requests.csv"'
    return response
