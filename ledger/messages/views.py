"""The customer's side of messages: the "Messages" page, the button, the unsubscribe link.

The button (`/m/<token>/`) checks and consumes its single-use token, remembers where it
leads in this browser's session and goes on to `/me/messages/go/`, which needs the
customer signed in (the button never signs anyone in) and opens the page with the field
focused. For a record nobody can sign in to yet, the button is the brand's connect link:
sign-up, confirmation, then the same page. The unsubscribe link answers RFC 8058's
one-click POST (no cookies, no CSRF token: the signed link is the authority) and shows a
page with one button for a person who opens it.
"""

from __future__ import annotations

from django.contrib import messages as flash
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_GET, require_http_methods

from accounts.decorators import customer_required
from accounts.links import LINK_LIFETIME, link_token_mint
from accounts.models import CustomerBrand
from accounts.tokens import Refusal, TokenRefused
from transparency import registry

from . import links, selectors, services
from .models import Message

SESSION_KEY = "candor_message_destination"

REFUSED = {
    Refusal.EXPIRED: (
        "This button has expired",
        "Buttons in messages work for two days. Your messages are all in your Candor "
        "dashboard, under Messages.",
    ),
    "replayed": (
        "This button was already used",
        "Each button works once. Sign in to Candor and open Messages to find the message.",
    ),
}
INVALID = (
    "This link doesn't work",
    "It may have been cut short or changed on the way. Your messages are all in your Candor "
    "dashboard, under Messages.",
)


def _refused(request: HttpRequest, key) -> HttpResponse:
    title, text = REFUSED.get(key, INVALID)
    return render(request, "messages/refused.html", {"title": title, "text": text}, status=400)


def _message(token: str, audience: str) -> tuple[Message | None, links.LinkClaims | None, object]:
    try:
        claims = links.read(token, audience)
    except TokenRefused as exc:
        return None, None, exc.reason
    message = Message.objects.filter(public_id=claims.message_public_id).select_related("brand")
    message = message.first()
    return message, claims, None if message else Refusal.INVALID


@require_GET
def message_action(request: HttpRequest, token: str) -> HttpResponse:
    message, claims, refusal = _message(token, links.ACTION_AUDIENCE)
    if message is None or claims is None:
        return _refused(request, refusal)
    if not links.consume(message=message, claims=claims):
        return _refused(request, "replayed")
    request.session[SESSION_KEY] = {
        "customer_id": message.customer_id,
        "destination": message.action_destination,
        "ref": message.action_ref,
    }
    if selectors.customer_is_shell(message.customer_id):  # signed in or not: connect first
        ref = CustomerBrand.objects.filter(customer_id=message.customer_id, brand=message.brand)
        ref = ref.values_list("external_ref", flat=True).first()
        if ref and message.brand.token_secret:
            token = link_token_mint(brand=message.brand, ref=ref, lifetime=LINK_LIFETIME)
            return redirect(reverse("link_open") + f"?token={token}")
    return redirect("dashboard:messages_go")


def destination_after_connect(request: HttpRequest, customer) -> str | None:
    """Where a connect link opened by a message's button continues (transparency.link_views
    asks after connecting); None when no button led there."""
    pending = request.session.pop(SESSION_KEY, None)
    if not pending:
        return None
    return selectors.destination_url(
        customer=customer, destination=pending["destination"], ref=pending.get("ref", "")
    )


@customer_required
def messages_go(request: HttpRequest) -> HttpResponse:
    pending = request.session.pop(SESSION_KEY, None)
    if not pending:
        return redirect("dashboard:messages")
    if pending["customer_id"] != request.customer.pk:
        flash.info(request, "That button was for another account. Here are your own messages.")
        return redirect("dashboard:messages")
    return redirect(
        selectors.destination_url(
            customer=request.customer,
            destination=pending["destination"],
            ref=pending.get("ref", ""),
        )
    )


@csrf_exempt
@require_http_methods(["GET", "POST"])
def message_unsubscribe(request: HttpRequest, token: str) -> HttpResponse:
    message, _, refusal = _message(token, links.UNSUBSCRIBE_AUDIENCE)
    if message is None:
        return _refused(request, refusal)
    if request.method == "POST":
        services.marketing_unsubscribe(message=message)
        return render(request, "messages/unsubscribed.html", {"brand": message.brand})
    return render(request, "messages/unsubscribe.html", {"brand": message.brand})


def _label(kind: str) -> str:
    try:
        return registry.get(kind).label
    except KeyError:
        return {"consent": "Your choices"}.get(kind, kind)


@customer_required
def inbox(request: HttpRequest) -> HttpResponse:
    page = selectors.inbox_page(customer=request.customer, page=request.GET.get("page"))
    for message in page:
        message.data_labels = [_label(kind) for kind in message.data_used]
        message.action_url = reverse("dashboard:messages_open", args=[message.public_id])
    return render(request, "messages/inbox.html", {"page_obj": page})


@customer_required
def inbox_open(request: HttpRequest, public_id) -> HttpResponse:
    """The button of a message, from the inbox (already signed in: no token needed)."""
    message = get_object_or_404(Message, public_id=public_id, customer=request.customer)
    return redirect(
        selectors.destination_url(
            customer=request.customer,
            destination=message.action_destination,
            ref=message.action_ref,
        )
    )
