"""Global Privacy Control: `Sec-GPC: 1` from a customer's browser is their opt-out of sharing
across the group's brands and of third-party enrichment ("do not sell or share").

Honoured on every surface the customer's browser reaches: the dashboard and the connect
link (signed in: the middleware finds them before the view), and the widget API (the
widget names the token holder on the request, `request.gpc_customer_id`, and the
middleware honours it after the response: the recommendations layer never imports this
one). Recorded once, as consent history rows with channel `gpc`; after that the customer's
own later choice on My data stands (CPRA regulations § 7025(c)(3)). An anonymous visitor
has no record, so nothing is written for them.
"""

from __future__ import annotations

from django.core.cache import cache
from django.db import transaction

from accounts.audit import Actor, audit_record
from accounts.consent_history import consent_event_record
from accounts.locks import CustomerGone, customer_lock
from accounts.models import ActorKind, ConsentEvent, Customer

from .. import registry, selectors, services

CHANNEL = "gpc"
PURPOSES = tuple(p.value for p in registry.GPC_PURPOSES)
ACTOR = Actor(kind=ActorKind.CUSTOMER, label="your browser (Global Privacy Control)")
_SEEN = "gpc:seen:{}"


def request_sends_gpc(request) -> bool:
    return request.headers.get("Sec-GPC", "").strip() == "1"


def gpc_recorded(*, customer_id: int) -> bool:
    return ConsentEvent.objects.filter(customer_id=customer_id, channel=CHANNEL).exists()


@transaction.atomic
def gpc_apply(*, customer: Customer) -> bool:
    """Switch the customer's sharing purposes off for GPC, once. True when recorded now."""
    customer_lock(customer.pk)  # erased meanwhile: CustomerGone, nothing written
    if gpc_recorded(customer_id=customer.pk):
        return False
    for purpose in PURPOSES:
        changed = services.purpose_set_granted(
            customer=customer, purpose=purpose, granted=False, actor=ACTOR, channel=CHANNEL
        )
        if not changed:  # already off: the browser's request is still on record
            consent_event_record(
                customer_id=customer.pk,
                purpose=purpose,
                granted=False,
                channel=CHANNEL,
                actor_label=ACTOR.label,
            )
            audit_record(
                actor=ACTOR,
                customer=customer,
                data_kind="consent",
                action="use_off",
                object_ref=purpose,
                reason="Global Privacy Control received; already off",
            )
    return True


def gpc_honour(*, customer_id: int) -> None:
    """Apply GPC for this customer unless already done; one cache read once it is."""
    key = _SEEN.format(customer_id)
    if cache.get(key):
        return
    customer = Customer.objects.filter(pk=customer_id).first()
    if customer is None:
        return
    try:
        gpc_apply(customer=customer)
    except CustomerGone:
        return
    cache.set(key, True, timeout=24 * 3600)


class GpcMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        gpc = request_sends_gpc(request)
        if gpc and request.user.is_authenticated:
            customer_id = (
                Customer.objects.filter(user_id=request.user.pk).values_list("pk", flat=True)
            ).first()
            if customer_id is not None:
                gpc_honour(customer_id=customer_id)
        response = self.get_response(request)
        holder = getattr(request, "gpc_customer_id", None)
        if gpc and holder is not None:
            gpc_honour(customer_id=holder)
        return response


def gpc_notice(*, customer_id: int) -> dict | None:
    """What My data says about GPC, when the customer's browser sent it."""
    rows = ConsentEvent.objects.filter(customer_id=customer_id, channel=CHANNEL)
    first = rows.order_by("pk").values_list("created_at", flat=True).first()
    if first is None:
        return None
    return {
        "since": first,
        "purposes": [
            {"label": row["label"], "granted": row["granted"]}
            for row in selectors.purposes_state(customer=Customer(pk=customer_id))
            if row["purpose"] in PURPOSES
        ],
    }
