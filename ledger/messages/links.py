"""The message's button and its unsubscribe link: tokens Candor signs for itself.

Same rules as the brands' tokens (accounts.tokens: HS256, `exp`, the reasons a token is
refused), but signed with a key derived from SECRET_KEY, since Candor mints them. The
button is single-use (its `jti` is consumed like a connect link's, accounts.links) and
lives ACTION_LIFETIME; it names a message, never a person, and never signs anyone in.
The unsubscribe link is not single-use (RFC 8058: a mail client may POST it more than
once; switching off twice changes nothing) and lives longer.
"""

from __future__ import annotations

import hashlib
import secrets
import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import jwt
from django.conf import settings
from django.db import IntegrityError, transaction

from accounts.models import LinkTokenUse
from accounts.tokens import MAX_TOKEN_LENGTH, TOKEN_LEEWAY, Refusal, TokenRefused

from .models import Message

ISSUER = "candor"
ACTION_AUDIENCE = "candor-message-action"
UNSUBSCRIBE_AUDIENCE = "candor-unsubscribe"
ACTION_LIFETIME = 48 * 3600  # seconds: long enough to read the mail the next day
UNSUBSCRIBE_LIFETIME = 60 * 24 * 3600


def _key() -> bytes:
    return hashlib.sha256(b"candor.messages.links:" + settings.SECRET_KEY.encode()).digest()


def _mint(audience: str, subject: str, lifetime: int, now: float | None = None) -> str:
    now = int(now if now is not None else time.time())
    claims = {
        "iss": ISSUER,
        "aud": audience,
        "sub": subject,
        "iat": now,
        "exp": now + lifetime,
        "jti": secrets.token_urlsafe(16),
    }
    return jwt.encode(claims, _key(), algorithm="HS256")


def action_token(message: Message) -> str:
    return _mint(ACTION_AUDIENCE, str(message.public_id), ACTION_LIFETIME)


def unsubscribe_token(message: Message) -> str:
    return _mint(UNSUBSCRIBE_AUDIENCE, str(message.public_id), UNSUBSCRIBE_LIFETIME)


@dataclass(frozen=True)
class LinkClaims:
    message_public_id: str
    jti: str
    expires_at: datetime


def read(token: str, audience: str) -> LinkClaims:
    """The claims of a genuine token for `audience`, else TokenRefused with the reason."""
    if not token or len(token) > MAX_TOKEN_LENGTH:
        raise TokenRefused(Refusal.INVALID)
    try:
        claims = jwt.decode(
            token,
            _key(),
            algorithms=["HS256"],
            audience=audience,
            issuer=ISSUER,
            leeway=TOKEN_LEEWAY,
            options={"require": ["exp", "aud", "iss", "sub", "jti"]},
        )
    except jwt.ExpiredSignatureError:
        raise TokenRefused(Refusal.EXPIRED) from None
    except jwt.InvalidAudienceError:
        raise TokenRefused(Refusal.AUDIENCE) from None
    except Exception:  # malformed or tampered: never a server error
        raise TokenRefused(Refusal.INVALID) from None
    if not isinstance(claims["sub"], str) or not isinstance(claims["jti"], str):
        raise TokenRefused(Refusal.INVALID)
    return LinkClaims(
        message_public_id=claims["sub"],
        jti=claims["jti"][:100],
        expires_at=datetime.fromtimestamp(claims["exp"], tz=UTC),
    )


def consume(*, message: Message, claims: LinkClaims) -> bool:
    """Mark the button used; False when it already was (a replay)."""
    try:
        with transaction.atomic():
            LinkTokenUse.objects.create(
                brand_id=message.brand_id,
                jti=claims.jti,
                expires_at=claims.expires_at + timedelta(seconds=TOKEN_LEEWAY),
            )
    except IntegrityError:
        return False
    return True
