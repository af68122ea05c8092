"""The dispatcher: claim due messages with a conditional UPDATE, check them again, deliver.

Runs periodically (CELERY_BEAT_SCHEDULE) and when a batch due now was accepted. A row is
claimed by `UPDATE ... SET state='sending' WHERE state='scheduled'` (under FOR UPDATE SKIP
LOCKED on PostgreSQL), so two dispatchers at once never send the same message; a claim
whose worker died is released after LEASE. Just before sending, the decision is taken
again: a marketing message whose purpose was switched off since is not sent and says so,
and one whose channel is now "none" stays in the inbox. A customer erased meanwhile has no
rows left to send. A fixed number of queries per batch, whatever its size.
"""

from __future__ import annotations

import logging
import secrets
from collections import defaultdict
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from functools import lru_cache

from django.conf import settings
from django.db import connection, transaction
from django.db.models import F
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone

from accounts.audit import Actor, AuditEntry, audit_record_many
from accounts.locks import customers_lock

from . import links, selectors
from .decide import decide
from .gateways import Outgoing, gateway_for
from .models import Category, Message, MessageChannel, MessageState

log = logging.getLogger(__name__)

BATCH = 200
LEASE = timedelta(minutes=10)
TASK = "ledger.messages_dispatch"


@dataclass
class DispatchResult:
    sent: int = 0
    suppressed: int = 0
    held: int = 0
    failed: int = 0
    batches: int = 0
    by_state: dict[str, list[int]] = field(default_factory=lambda: defaultdict(list))


def messages_dispatch(*, limit: int = 10_000, now: datetime | None = None) -> DispatchResult:
    """Send what is due, batch by batch, until nothing is left or `limit` were tried."""
    result = DispatchResult()
    _leases_expire()
    tried = 0
    while tried < limit:
        batch = _claim(min(BATCH, limit - tried), now or timezone.now())
        if not batch:
            break
        tried += len(batch)
        result.batches += 1
        _deliver(batch, result, now or timezone.now())
    return result


def _leases_expire() -> int:
    return Message.objects.filter(
        state=MessageState.SENDING, lease_until__lt=timezone.now()
    ).update(state=MessageState.SCHEDULED, claim="", lease_until=None)


@transaction.atomic
def _claim(limit: int, now: datetime) -> list[Message]:
    due = Message.objects.filter(state=MessageState.SCHEDULED, due_at__lte=now).order_by(
        "due_at", "pk"
    )
    if connection.features.has_select_for_update_skip_locked:
        due = due.select_for_update(skip_locked=True)
    pks = list(due.values_list("pk", flat=True)[:limit])
    if not pks:
        return []
    claim = secrets.token_hex(8)
    Message.objects.filter(pk__in=pks, state=MessageState.SCHEDULED).update(
        state=MessageState.SENDING,
        claim=claim,
        lease_until=now + LEASE,
        attempts=F("attempts") + 1,
    )
    return list(
        Message.objects.filter(claim=claim, state=MessageState.SENDING)
        .select_related("brand")
        .order_by("pk")
    )


def _deliver(batch: list[Message], result: DispatchResult, now: datetime) -> None:
    decisions = {}
    groups: dict[tuple, list[Message]] = defaultdict(list)
    for message in batch:
        groups[(message.brand_id, message.category)].append(message)
    for (_, category), messages in groups.items():
        reach = selectors.reaches(
            brand=messages[0].brand,
            customer_ids={m.customer_id for m in messages},
            category=category,
        )
        for m in messages:
            decisions[m.pk] = decide(reach=reach[m.customer_id], now=now)
    to = selectors.recipients({m.customer_id for m in batch})
    outgoing: dict[str, list[tuple[Message, Outgoing]]] = defaultdict(list)
    outcomes: dict[tuple[str, str], list[int]] = defaultdict(list)
    for message in batch:
        decision = decisions[message.pk]
        if decision.state == MessageState.SUPPRESSED:
            why = decision.why_channel.rstrip(".") + " before it was due."
            outcomes[(MessageState.SUPPRESSED, why)].append(message.pk)
        elif decision.state == MessageState.HELD:
            outcomes[(MessageState.HELD, decision.why_channel)].append(message.pk)
        else:
            message.channel = decision.channel
            outgoing[decision.channel].append(
                (message, _outgoing(message, to[message.customer_id]))
            )
    for channel, items in outgoing.items():
        accepted = gateway_for(channel).send([o for _, o in items])
        for (message, _), ok in zip(items, accepted, strict=True):
            key = (MessageState.SENT, channel) if ok else (MessageState.FAILED, channel)
            outcomes[key].append(message.pk)
    _record(outcomes, result, now)
    _audit_reads(batch, outgoing)


@lru_cache(maxsize=8)
def _path(name: str, with_token: bool) -> str:
    """A URL's path, reversed once per process (reverse() per mail was a tenth of the run)."""
    return reverse(name, args=["TOKEN"]) if with_token else reverse(name)


def _url(name: str, token: str = "") -> str:
    path = _path(name, bool(token))
    return settings.CANDOR_BASE_URL + (path.replace("TOKEN", token) if token else path)


def _outgoing(message: Message, recipient: selectors.Recipient) -> Outgoing:
    context = {
        "message": message,
        "brand": message.brand.name,
        "action_url": _url("message_action", links.action_token(message))
        if message.action_destination
        else "",
        "inbox_url": _url("dashboard:messages"),
        "unsubscribe_url": "",
    }
    headers = {}
    if message.category == Category.MARKETING:
        unsubscribe = _url("message_unsubscribe", links.unsubscribe_token(message))
        context["unsubscribe_url"] = unsubscribe
        headers = {
            "List-Unsubscribe": f"<{unsubscribe}>",
            "List-Unsubscribe-Post": "List-Unsubscribe=One-Click",
        }
    subject = f"{message.brand.name}: {message.subject}"
    text = render_to_string("messages/email.txt", context)
    if message.channel == MessageChannel.EMAIL:
        return Outgoing(
            message_id=str(message.public_id),
            to=recipient.email,
            subject=subject,
            text=text,
            html=render_to_string("messages/email.html", context),
            headers={**headers, "X-Candor-Message": str(message.public_id)},
        )
    if message.channel == MessageChannel.SMS:
        action = (
            f" {message.action_label}: {context['action_url']}" if context["action_url"] else ""
        )
        return Outgoing(str(message.public_id), recipient.phone, subject, f"{subject}.{action}")
    a = recipient.postal
    lines = [a.recipient, a.line1, a.line2, f"{a.postal_code} {a.city}", a.country] if a else []
    return Outgoing(str(message.public_id), "\n".join(x for x in lines if x), subject, text)


def _record(outcomes: dict, result: DispatchResult, now: datetime) -> None:
    """One UPDATE per outcome; each only touches rows this dispatcher still holds."""
    for (state, detail), pks in outcomes.items():
        fields = {"state": state, "claim": "", "lease_until": None}
        if state == MessageState.SENT:
            fields.update(sent_at=now, channel=detail, outcome="")
            result.sent += len(pks)
        elif state == MessageState.FAILED:
            fields.update(channel=detail, outcome="The delivery service did not accept it.")
            result.failed += len(pks)
        else:
            fields.update(outcome=detail, channel=MessageChannel.INBOX)
            if state == MessageState.SUPPRESSED:
                result.suppressed += len(pks)
            else:
                result.held += len(pks)
        Message.objects.filter(pk__in=pks, state=MessageState.SENDING).update(**fields)
        result.by_state[state].extend(pks)


def _audit_reads(batch: list[Message], outgoing: dict) -> None:
    """The access log says which details were read to deliver: one row per message sent,
    by this task on behalf of the message's brand."""
    kind = {"email": "personal_fact", "sms": "personal_fact", "post": "address"}
    actor = Actor.system(TASK)
    sent = [m.customer_id for items in outgoing.values() for m, _ in items]
    if not sent:
        return
    with transaction.atomic():
        alive = customers_lock(sent)  # erased meanwhile: nothing to log for them
        by_brand: dict[int, list[AuditEntry]] = defaultdict(list)
        for channel, items in outgoing.items():
            for message, _ in items:
                if message.customer_id in alive:
                    by_brand[message.brand_id].append(
                        AuditEntry(
                            customer_id=message.customer_id,
                            data_kind=kind[channel],
                            action="read",
                            object_ref=str(message.public_id),
                            reason=f"to deliver a message from {message.brand.name} by {channel}",
                        )
                    )
        for brand_id, entries in by_brand.items():
            audit_record_many(actor=replace(actor, brand_id=brand_id), entries=entries)
