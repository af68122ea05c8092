"""Webhooks to brands: every customer choice reaches the brand's own systems.

Payloads follow the Standard Webhooks specification (`webhook-id`, `webhook-timestamp`,
`webhook-signature` headers; body `{"type", "timestamp", "data"}`), signed with the
`standardwebhooks` library. They carry the brand's own references and kinds of data,
never personal values.

Delivery goes through the database, never through broker ETAs:

* `webhook_emit` writes one WebhookDelivery row per subscribed endpoint in the caller's
  transaction (so a rolled-back change announces nothing) and asks, through the outbox,
  for a dispatch after commit (one ask for a burst: `_ask_for_dispatch`).
* `webhooks_dispatch` (accounts.webhook_dispatch: that task, and a periodic safety net)
  claims due rows with a conditional UPDATE and posts them with bounded timeouts, never
  following a redirect. At least once: a row is only marked delivered after a 2xx, so a
  crash mid-way sends it again. In order per customer per endpoint: a row is claimed only
  when no earlier row of the same endpoint and customer is still waiting, so a failing one
  holds back the later ones until it is delivered or given up on. Failures back off
  exponentially for about a day (WEBHOOK_RETRY_WINDOW), then the row is marked failed for
  staff to see.
* The body is cleared once a row is delivered or failed; the delivery log keeps the
  event's id and type, attempts, status codes, errors and times.
"""

from __future__ import annotations

import base64
import json
import logging
import secrets
import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from urllib.parse import urlsplit

from django.conf import settings
from django.core.cache import cache
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from . import outbox
from .keys import tombstone_digest
from .models import (
    Brand,
    DeliveryState,
    WebhookDelivery,
    WebhookEndpoint,
    WebhookEventType,
)
from .webhook_dispatch import DISPATCH_ASKED

log = logging.getLogger(__name__)

DISPATCH_TASK = "accounts.webhooks_dispatch"
DISPATCH_ASKED_SECONDS = 30  # a lost ask stops suppressing new ones after this
SECRET_PREFIX = "whsec_"


# --- endpoints ----------------------------------------------------------------------------


def webhook_secret_new() -> str:
    return SECRET_PREFIX + base64.b64encode(secrets.token_bytes(24)).decode()


def webhook_url_validate(url: str) -> str:
    """An absolute http(s) URL without credentials; https unless WEBHOOK_ALLOW_HTTP."""
    url = (url or "").strip()
    if any(ch.isspace() or ord(ch) < 32 or ord(ch) == 127 for ch in url):
        raise ValidationError("The URL must not contain spaces or control characters.")
    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018  raises ValueError on a bad port
    except ValueError as exc:
        raise ValidationError("Not a valid URL.") from exc
    allowed = ("https", "http") if settings.WEBHOOK_ALLOW_HTTP else ("https",)
    if parts.scheme not in allowed:
        raise ValidationError(f"The URL must start with {' or '.join(allowed)}://.")
    if not parts.hostname or parts.username or parts.password or len(url) > 500:
        raise ValidationError("The URL needs a host, no user or password, at most 500 characters.")
    return url


def webhook_event_types_validate(event_types) -> list[str]:
    """Known event types, in the order they are declared; an empty choice means all."""
    chosen = set(event_types or WebhookEventType.values)
    unknown = chosen - set(WebhookEventType.values)
    if unknown:
        raise ValidationError(f"Unknown event types: {', '.join(sorted(unknown))}.")
    return [t for t in WebhookEventType.values if t in chosen]


@transaction.atomic
def webhook_endpoint_create(
    *, brand: Brand, url: str, event_types=(), description: str = ""
) -> tuple[WebhookEndpoint, str]:
    """Register an endpoint; the returned signing secret is the only time it is shown."""
    secret = webhook_secret_new()
    endpoint = WebhookEndpoint.objects.create(
        brand=brand,
        url=webhook_url_validate(url),
        event_types=webhook_event_types_validate(event_types),
        description=description[:120],
        secret=secret,
    )
    return endpoint, secret


@transaction.atomic
def webhook_endpoint_rotate_secret(*, endpoint: WebhookEndpoint) -> str:
    """A new signing secret (shown once); deliveries from now on are signed with it."""
    secret = webhook_secret_new()
    WebhookEndpoint.objects.filter(pk=endpoint.pk).update(secret=secret)
    endpoint.secret = secret
    return secret


@transaction.atomic
def webhook_endpoint_disable(*, endpoint: WebhookEndpoint) -> bool:
    """Stop sending to the endpoint; what was still waiting is given up on. Idempotent."""
    now = timezone.now()
    if not WebhookEndpoint.objects.filter(pk=endpoint.pk, disabled_at__isnull=True).update(
        disabled_at=now
    ):
        return False
    WebhookDelivery.objects.filter(
        endpoint=endpoint, state__in=[DeliveryState.PENDING, DeliveryState.SENDING]
    ).update(
        state=DeliveryState.FAILED,
        payload="",
        failed_at=now,
        claim="",
        lease_until=None,
        last_error="endpoint disabled",
    )
    endpoint.disabled_at = now
    return True


# --- emitting -----------------------------------------------------------------------------


def webhook_event_id() -> str:
    return f"msg_{uuid.uuid4().hex}"


@dataclass(frozen=True)
class Outgoing:
    """One event for :func:`webhooks_emit`: ``event_type`` about the brand's customer
    ``customer_ref``; ``data`` holds only the brand's own references, kinds and flags."""

    brand_id: int
    customer_ref: str
    event_type: str
    data: dict
    #: the id the brand dedupes on: stored with whatever made the event (an ErasureNotice's
    #: ``event_id``), or a new :func:`webhook_event_id`
    event_id: str


def webhook_emit(
    *,
    brand_id: int,
    customer_ref: str,
    event_type: str,
    data: dict,
    at: datetime | None = None,
    event_id: str | None = None,
) -> str:
    """Queue `event_type` about the brand's customer `customer_ref` for every endpoint of
    the brand that wants it, in the caller's transaction. Returns the event's id (the
    `webhook-id`, the same for every endpoint and every retry).

    `data` must hold only the brand's own references, kinds and flags: it is sent as is."""
    event = Outgoing(brand_id, customer_ref, event_type, data, event_id or webhook_event_id())
    webhooks_emit([event], at=at)
    return event.event_id


def webhooks_emit(events: Iterable[Outgoing], *, at: datetime | None = None) -> None:
    """Queue many events at once (as :func:`webhook_emit` each): one lookup of their
    brands' endpoints and one bulk insert of the deliveries, whatever their number (a
    retention sweep tells brands about every customer whose rows went)."""
    events = list(events)
    for event in events:
        if event.event_type not in WebhookEventType.values:
            raise ValueError(event.event_type)
    wanted: dict[int, list[tuple[int, list]]] = {}
    for pk, brand_id, types in (
        WebhookEndpoint.objects.filter(
            brand_id__in={e.brand_id for e in events}, disabled_at__isnull=True
        )
        .order_by("pk")
        .values_list("pk", "brand_id", "event_types")
    ):
        wanted.setdefault(brand_id, []).append((pk, types or []))
    at = at or timezone.now()
    stamp = at.isoformat().replace("+00:00", "Z")
    now = timezone.now()
    rows = []
    for event in events:
        endpoints = [
            pk for pk, types in wanted.get(event.brand_id, []) if event.event_type in types
        ]
        if not endpoints:
            continue
        body = json.dumps(
            {
                "type": event.event_type,
                "timestamp": stamp,
                "data": {"customer_ref": event.customer_ref, **event.data},
            },
            separators=(",", ":"),
            sort_keys=True,
        )
        order_key = tombstone_digest(event.brand_id, event.customer_ref)
        rows += [
            WebhookDelivery(
                endpoint_id=pk,
                event_id=event.event_id,
                event_type=event.event_type,
                order_key=order_key,
                payload=body,
                next_attempt_at=now,
                created_at=now,
            )
            for pk in endpoints
        ]
    if rows:
        WebhookDelivery.objects.bulk_create(rows, batch_size=1000)
        transaction.on_commit(_ask_for_dispatch)


def _ask_for_dispatch() -> None:
    """After commit: ask for a dispatch now, unless one is already asked for and has not
    started yet (it will see this row: it clears the flag before it claims anything). The
    rows themselves are the durable record; the periodic dispatcher is the safety net if
    this ask is lost (broker down, cache down)."""
    try:
        first = cache.add(DISPATCH_ASKED, 1, timeout=DISPATCH_ASKED_SECONDS)
    except Exception:  # no shared cache: ask every time
        first = True
    if first:
        outbox.enqueue(task=DISPATCH_TASK, kwargs={})
