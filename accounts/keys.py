"""Brand API credentials: secret server keys, publishable widget keys, the token secret.

A server key is shown once (`sk_<prefix>_<secret>`) and only its prefix and SHA-256 are
stored, so a database dump reveals no usable key (B3). Widget keys are publishable by
design: read-only and bound to the brand's origins. Nothing here logs a key.
"""

import hashlib
import hmac
import secrets
from datetime import timedelta
from urllib.parse import urlsplit

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from .models import Brand, ServerKey, WidgetKey

SERVER_KEY_SCHEME = "sk"
WIDGET_KEY_SCHEME = "pk"
LAST_USED_RESOLUTION = timedelta(minutes=1)


def _hash(raw: str) -> str:
    return hashlib.sha256(raw.encode()).hexdigest()


def tombstone_digest(brand_id: int, external_ref: str) -> str:
    """What an ErasureTombstone stores for a brand's reference: a digest, never the ref."""
    return hashlib.sha256(f"{brand_id}:{external_ref}".encode()).hexdigest()


@transaction.atomic
def server_key_create(*, brand: Brand, label: str = "") -> tuple[ServerKey, str]:
    """Create a server key; the returned plaintext is the only copy there will ever be."""
    prefix = secrets.token_hex(6)
    raw = f"{SERVER_KEY_SCHEME}_{prefix}_{secrets.token_urlsafe(32)}"
    key = ServerKey.objects.create(
        brand=brand, label=label[:80], prefix=prefix, key_hash=_hash(raw)
    )
    return key, raw


def server_key_authenticate(raw: str) -> Brand | None:
    """The brand a raw server key belongs to, or None (unknown, malformed or revoked)."""
    scheme, _, rest = (raw or "").partition("_")
    prefix, _, secret = rest.partition("_")
    if scheme != SERVER_KEY_SCHEME or not prefix or not secret or len(prefix) > 24:
        return None
    key = (
        ServerKey.objects.select_related("brand")
        .filter(prefix=prefix, revoked_at__isnull=True)
        .first()
    )
    if key is None or not hmac.compare_digest(key.key_hash, _hash(raw)):
        return None
    now = timezone.now()
    if key.last_used_at is None or now - key.last_used_at >= LAST_USED_RESOLUTION:
        ServerKey.objects.filter(pk=key.pk).update(last_used_at=now)
    return key.brand


def server_key_revoke(*, key: ServerKey) -> ServerKey:
    """Refuse the key from now on (idempotent: a revoked key keeps its first revocation time)."""
    if key.revoked_at is None:
        ServerKey.objects.filter(pk=key.pk, revoked_at__isnull=True).update(
            revoked_at=timezone.now()
        )
        key.refresh_from_db(fields=["revoked_at"])
    return key


def origin_normalize(value: str) -> str:
    """`scheme://host[:port]` in lower case, or ValidationError (no path, query or userinfo)."""
    try:
        parts = urlsplit(value.strip())
        port = parts.port
    except ValueError as exc:
        raise ValidationError(f"Not an origin: {value!r}") from exc
    if (
        parts.scheme not in ("http", "https")
        or not parts.hostname
        or parts.username
        or parts.password
        or parts.path not in ("", "/")
        or parts.query
        or parts.fragment
    ):
        raise ValidationError(f"Not an origin (expected scheme://host[:port]): {value!r}")
    host = parts.hostname.lower()
    if ":" in host:
        host = f"[{host}]"
    return f"{parts.scheme}://{host}" + (f":{port}" if port is not None else "")


@transaction.atomic
def widget_key_create(*, brand: Brand, origins: list[str]) -> WidgetKey:
    """A publishable, read-only key usable only from the given origins."""
    normalized = list(dict.fromkeys(origin_normalize(o) for o in origins))
    if not normalized:
        raise ValidationError("A widget key needs at least one allowed origin.")
    key = f"{WIDGET_KEY_SCHEME}_{secrets.token_urlsafe(24)}"
    return WidgetKey.objects.create(brand=brand, key=key, allowed_origins=normalized)


def widget_key_revoke(*, key: WidgetKey) -> WidgetKey:
    if key.revoked_at is None:
        WidgetKey.objects.filter(pk=key.pk, revoked_at__isnull=True).update(
            revoked_at=timezone.now()
        )
        key.refresh_from_db(fields=["revoked_at"])
    return key


@transaction.atomic
def brand_token_secret_rotate(*, brand: Brand) -> str:
    """A new secret for the brand's customer tokens; tokens signed with the old one stop working."""
    secret = secrets.token_urlsafe(48)
    brand.token_secret = secret
    brand.save(update_fields=["token_secret"])
    return secret
