"""Short-lived JWTs a brand's server signs with its token secret (HS256).

Two audiences share one set of rules: the widget's customer token (`candor-widget`, read by
recommendations.widget.auth) and the connect link (`candor-link`, accounts.links). In both,
`iss` is the brand slug, `sub` the brand's reference for the customer, and `exp` at most
TOKEN_MAX_LIFETIME after `iat` (and after now). `brand_token_verify` is the one place that
checks them; it says why a token was refused, and each caller decides how much of that to
tell (the widget tells nothing).
"""

from __future__ import annotations

import logging
import secrets
import time
from enum import StrEnum

import jwt

log = logging.getLogger(__name__)

TOKEN_MAX_LIFETIME = 15 * 60  # seconds: a longer-lived token is refused
TOKEN_LEEWAY = 10  # seconds of clock skew between the brand's server and ours
MAX_TOKEN_LENGTH = 2048
MAX_SUBJECT_LENGTH = 100  # CustomerBrand.external_ref


class Refusal(StrEnum):
    INVALID = "invalid"  # malformed, tampered, wrong issuer or algorithm, claims missing
    EXPIRED = "expired"  # signed by the brand, but past its expiry
    AUDIENCE = "audience"  # signed by the brand for another use (e.g. a widget token)
    LIFETIME = "lifetime"  # signed by the brand, but valid for longer than allowed


class TokenRefused(Exception):
    def __init__(self, reason: Refusal):
        super().__init__(reason.value)
        self.reason = reason


def unverified_issuer(token: str) -> str | None:
    """The `iss` a token claims, read without checking anything (to find the secret)."""
    if not token or len(token) > MAX_TOKEN_LENGTH:
        return None
    try:
        iss = jwt.decode(token, options={"verify_signature": False}).get("iss")
    except Exception:  # malformed: the caller refuses it
        return None
    return iss if isinstance(iss, str) and iss else None


def brand_token_verify(
    *, token: str, secret: str, issuer: str, audience: str, require: tuple[str, ...] = ()
) -> dict:
    """The claims of a valid token, else TokenRefused with the reason.

    The signature is checked before any other claim (PyJWT's order), so EXPIRED, AUDIENCE
    and LIFETIME are only ever said about a token the brand really signed.
    """
    if not token or not secret or len(token) > MAX_TOKEN_LENGTH:
        raise TokenRefused(Refusal.INVALID)
    try:
        claims = jwt.decode(
            token,
            secret,
            algorithms=["HS256"],
            audience=audience,
            issuer=issuer,
            leeway=TOKEN_LEEWAY,
            options={"require": ["exp", "aud", "iss", "sub"]},
        )
    except jwt.ExpiredSignatureError:
        raise TokenRefused(Refusal.EXPIRED) from None
    except jwt.InvalidAudienceError:
        raise TokenRefused(Refusal.AUDIENCE) from None
    except jwt.PyJWTError:
        raise TokenRefused(Refusal.INVALID) from None
    except Exception:  # a malformed token must never become a server error
        log.info("brand token: unreadable")
        raise TokenRefused(Refusal.INVALID) from None
    if any(name not in claims for name in require):  # after the audience: a widget token
        raise TokenRefused(Refusal.INVALID)  # shown as a link is "not a link", not "invalid"
    exp, iat = claims.get("exp"), claims.get("iat")
    if not isinstance(exp, int | float) or exp - time.time() > TOKEN_MAX_LIFETIME + TOKEN_LEEWAY:
        raise TokenRefused(Refusal.LIFETIME)
    if iat is not None and (not isinstance(iat, int | float) or exp - iat > TOKEN_MAX_LIFETIME):
        raise TokenRefused(Refusal.LIFETIME)
    sub = claims.get("sub")
    if not isinstance(sub, str) or not sub or len(sub) > MAX_SUBJECT_LENGTH:
        raise TokenRefused(Refusal.INVALID)
    return claims


def brand_token_mint(
    *, secret: str, issuer: str, audience: str, subject: str, lifetime: int = 600
) -> str:
    """A token as a brand's server mints it (Candor mints link tokens for the widget)."""
    now = int(time.time())
    claims = {
        "iss": issuer,
        "aud": audience,
        "sub": subject,
        "iat": now,
        "exp": now + min(lifetime, TOKEN_MAX_LIFETIME),
        "jti": secrets.token_urlsafe(16),
    }
    return jwt.encode(claims, secret, algorithm="HS256")
