"""Connect links: a brand's signed, single-use invitation to connect its record to Candor.

The brand's server mints a JWT like the widget's customer token (accounts.tokens) for the
audience `candor-link`, with a unique `jti`. Candor reads it (`link_token_read`), and
consumes its `jti` the first time the link is opened (`link_token_consume`): a second
opening anywhere is a replay. What happens next (sign-in, confirmation, the move) is
transparency.connect's; this module only says whether a link is genuine and unused.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from enum import StrEnum

from django.db import IntegrityError, transaction
from django.utils import timezone

from .models import Brand, LinkTokenUse
from .tokens import (
    TOKEN_LEEWAY,
    Refusal,
    TokenRefused,
    brand_token_mint,
    brand_token_verify,
    unverified_issuer,
)

LINK_AUDIENCE = "candor-link"
LINK_LIFETIME = 10 * 60  # seconds, for links Candor mints itself (the widget's)
MAX_JTI_LENGTH = 100


class LinkRefusal(StrEnum):
    """Why a link connects nothing. The first three are said without naming the brand."""

    INVALID = "invalid"
    EXPIRED = "expired"
    AUDIENCE = "audience"
    REPLAYED = "replayed"
    ERASED = "erased"
    CONNECTED_ELSEWHERE = "connected_elsewhere"
    BRAND_ALREADY_CONNECTED = "brand_already_connected"


class LinkRefused(Exception):
    def __init__(self, reason: LinkRefusal, brand: Brand | None = None):
        super().__init__(reason.value)
        self.reason = reason
        self.brand = brand


@dataclass(frozen=True)
class LinkClaims:
    brand: Brand
    ref: str
    jti: str
    expires_at: datetime


_TOKEN_REFUSALS = {
    Refusal.INVALID: LinkRefusal.INVALID,
    Refusal.LIFETIME: LinkRefusal.INVALID,
    Refusal.EXPIRED: LinkRefusal.EXPIRED,
    Refusal.AUDIENCE: LinkRefusal.AUDIENCE,
}


def link_token_read(token: str) -> LinkClaims:
    """The claims of a genuine connect link, else LinkRefused (invalid, expired, audience)."""
    slug = unverified_issuer(token)
    brand = Brand.objects.filter(slug=slug).first() if slug else None
    if brand is None or not brand.token_secret:
        raise LinkRefused(LinkRefusal.INVALID)
    try:
        claims = brand_token_verify(
            token=token,
            secret=brand.token_secret,
            issuer=brand.slug,
            audience=LINK_AUDIENCE,
            require=("iat", "jti"),
        )
    except TokenRefused as exc:
        raise LinkRefused(_TOKEN_REFUSALS[exc.reason]) from None
    jti = claims["jti"]
    if not isinstance(jti, str) or not jti or len(jti) > MAX_JTI_LENGTH:
        raise LinkRefused(LinkRefusal.INVALID)
    expires_at = datetime.fromtimestamp(claims["exp"], tz=UTC)
    return LinkClaims(brand=brand, ref=claims["sub"], jti=jti, expires_at=expires_at)


def link_token_consume(*, claims: LinkClaims) -> bool:
    """Mark the link used; False when it already was (a replay)."""
    try:
        with transaction.atomic():
            LinkTokenUse.objects.create(
                brand=claims.brand,
                jti=claims.jti,
                expires_at=claims.expires_at + timedelta(seconds=TOKEN_LEEWAY),
            )
    except IntegrityError:
        return False
    return True


def link_token_mint(*, brand: Brand, ref: str, lifetime: int = LINK_LIFETIME) -> str:
    """A connect link token as the brand's server would mint it (for the widget's
    "Manage my data", where Candor already holds a valid customer token for `ref`)."""
    return brand_token_mint(
        secret=brand.token_secret,
        issuer=brand.slug,
        audience=LINK_AUDIENCE,
        subject=ref,
        lifetime=lifetime,
    )


def link_uses_purge(*, now: datetime | None = None) -> int:
    """Forget used `jti`s whose links have expired (a replay is refused as expired then)."""
    deleted, _ = LinkTokenUse.objects.filter(expires_at__lt=now or timezone.now()).delete()
    return deleted
