"""`/link/`: a brand's connect link, from the first click to the connected dashboard.

At most three screens: sign up (or sign in) with a banner naming the brand, the
confirmation, the dashboard. The link's `jti` is consumed the first time it is opened and
what it said is kept in that browser's session until it expires, so the same person can
sign up or sign in on the way while a replay anywhere else is refused. Every refusal is
the same page with a plain explanation; an invalid link names no brand. A link opened from
a personal card of the widget ends on that card's reasons (`&product=`) instead.
"""

from datetime import UTC, datetime

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_GET, require_http_methods

from accounts.links import (
    LinkClaims,
    LinkRefusal,
    LinkRefused,
    link_token_consume,
    link_token_read,
)
from accounts.models import Brand, Customer, CustomerBrand
from accounts.tokens import TOKEN_LEEWAY
from ledger.messages import views as message_views

from . import connect

SESSION_KEY = "candor_link"

REFUSALS = {
    LinkRefusal.INVALID: (
        "This link doesn't work",
        "It may have been cut short or changed on the way. Go back to the shop and use its "
        "link again.",
    ),
    LinkRefusal.EXPIRED: (
        "This link has expired",
        "Links work for a few minutes only. Go back to the shop and follow its link again.",
    ),
    LinkRefusal.AUDIENCE: (
        "This is not a link to connect your data",
        "The shop sent a code meant for something else. Go back to the shop and use its "
        "“see your data” link.",
    ),
    LinkRefusal.REPLAYED: (
        "This link was already used",
        "Each link works once, in the browser that opened it first. Ask {brand} for a new one.",
    ),
    LinkRefusal.ERASED: (
        "There is nothing to connect",
        "The record this link was for was erased, so Candor holds nothing from {brand} under it.",
    ),
    LinkRefusal.CONNECTED_ELSEWHERE: (
        "This record is connected to another Candor account",
        "{brand}'s record is already connected to a different account. Sign in with that "
        "account to see it.",
    ),
    LinkRefusal.BRAND_ALREADY_CONNECTED: (
        "You are already connected to {brand}",
        "Your account is connected to {brand} under another of its references, so this "
        "one cannot be added. Everything {brand} sends about you already lands there.",
    ),
}


def _refused(request: HttpRequest, exc: LinkRefused) -> HttpResponse:
    title, text = REFUSALS[exc.reason]
    # Only a genuine link names its brand; for an invalid one, the claimed brand is unproven.
    brand = exc.brand.name if exc.brand is not None else "the brand"
    context = {"title": title.format(brand=brand), "text": text.format(brand=brand)}
    status = 409 if exc.reason in _CONFLICTS else 400
    return render(request, "link/refused.html", context, status=status)


_CONFLICTS = {
    LinkRefusal.ERASED,
    LinkRefusal.CONNECTED_ELSEWHERE,
    LinkRefusal.BRAND_ALREADY_CONNECTED,
}


def _customer(request: HttpRequest) -> Customer | None:
    if not request.user.is_authenticated:
        return None
    return Customer.objects.filter(user=request.user).first()


def _dashboard(brand_id: int) -> str:
    return reverse("dashboard:data") + f"?brand={brand_id}"


def _product(request: HttpRequest) -> int | None:
    """`&product=<id>` beside the token: the widget's "Manage my data" on a personal card
    asks to land on that card. Only an id is taken (never a URL), so the link cannot be
    turned into a redirect anywhere else; anything else is ignored."""
    value = request.GET.get("product", "")
    if value.isascii() and value.isdigit() and len(value) <= 18 and int(value) > 0:
        return int(value)
    return None


def _destination(brand_id: int, product: int | None) -> str:
    """Where a connected person lands: the card of `product` on their Recommendations page
    (its reasons, each with "See, switch off or delete"), else the brand's data in My data."""
    if product is not None:
        return reverse("dashboard:recommendations") + f"#rec-product-{product}"
    return _dashboard(brand_id)


def _sign_up() -> str:
    return f"{reverse('account_signup')}?next={reverse('link_confirm')}"


def _sign_in_or_up(brand: Brand, ref: str) -> str:
    """Sign-in for a reference already connected to an account (the link's holder is
    presumably its owner), sign-up otherwise; both come back to the confirmation."""
    link = CustomerBrand.objects.filter(brand=brand, external_ref=ref).first()
    if link is not None and not connect.customer_is_shell(link.customer_id):
        return f"{reverse('account_login')}?next={reverse('link_confirm')}"
    return _sign_up()


def _remember(request: HttpRequest, claims: LinkClaims, product: int | None) -> None:
    request.session[SESSION_KEY] = {
        "brand_id": claims.brand.pk,
        "brand_name": claims.brand.name,
        "ref": claims.ref,
        "jti": claims.jti,
        "exp": claims.expires_at.timestamp(),
        "product": product,
    }


@require_GET
def link_open(request: HttpRequest) -> HttpResponse:
    """GET /link/?token=...: check the link, consume it, and go on to the confirmation
    (through sign-up when nobody is signed in)."""
    try:
        claims = link_token_read(request.GET.get("token", ""))
    except LinkRefused as exc:
        return _refused(request, exc)
    product = _product(request)
    pending = request.session.get(SESSION_KEY) or {}
    reopened = pending.get("brand_id") == claims.brand.pk and pending.get("jti") == claims.jti
    if not reopened:
        customer = _customer(request)
        if (
            customer is not None
            and CustomerBrand.objects.filter(
                customer=customer, brand=claims.brand, external_ref=claims.ref
            ).exists()
        ):
            messages.info(request, f"You are already connected to {claims.brand.name}.")
            return redirect(_destination(claims.brand.pk, product))
        if not link_token_consume(claims=claims):
            return _refused(request, LinkRefused(LinkRefusal.REPLAYED, claims.brand))
        _remember(request, claims, product)
    if not request.user.is_authenticated:
        return redirect(_sign_in_or_up(claims.brand, claims.ref))
    return redirect("link_confirm")


@require_http_methods(["GET", "POST"])
def link_confirm(request: HttpRequest) -> HttpResponse:
    """What connecting means (the brand's kinds, counted); POST connects."""
    pending = request.session.get(SESSION_KEY)
    if not pending:
        return _refused(request, LinkRefused(LinkRefusal.INVALID))
    expires_at = datetime.fromtimestamp(pending["exp"], tz=UTC)
    if timezone.now().timestamp() > pending["exp"] + TOKEN_LEEWAY:
        request.session.pop(SESSION_KEY, None)
        return _refused(request, LinkRefused(LinkRefusal.EXPIRED))
    if not request.user.is_authenticated:
        return redirect(_sign_up())
    customer = _customer(request)
    brand = Brand.objects.filter(pk=pending["brand_id"]).first()
    if customer is None or brand is None:
        request.session.pop(SESSION_KEY, None)
        return _refused(request, LinkRefused(LinkRefusal.INVALID))
    try:
        target = connect.connect_target(customer=customer, brand=brand, ref=pending["ref"])
        if request.method == "POST":
            joined = connect.customer_connect(customer=customer, brand=brand, ref=pending["ref"])
            request.session.pop(SESSION_KEY, None)
            sent = {k.name for k in connect.sent_kinds()}
            total = sum(n for name, n in joined.counts.items() if name in sent)
            messages.success(
                request,
                f"Connected to {brand.name}. "
                + (
                    f"{total} item(s) it holds about you are now here."
                    if total
                    else "What it sends about you from now on will be here."
                ),
            )
            after = message_views.destination_after_connect(request, customer)
            return redirect(after or _destination(brand.pk, pending.get("product")))
    except connect.AlreadyConnected:
        request.session.pop(SESSION_KEY, None)
        messages.info(request, f"You are already connected to {brand.name}.")
        return redirect(_destination(brand.pk, pending.get("product")))
    except LinkRefused as exc:
        request.session.pop(SESSION_KEY, None)
        return _refused(request, exc)
    context = {
        "brand": brand,
        "counts": connect.connect_preview(target=target),
        "expires_at": expires_at,
    }
    return render(request, "link/confirm.html", context)
