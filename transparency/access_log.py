"""The access log in plain words.

Audit rows hold codes (task names, "use_off"); the customer reads sentences instead:
"Northwind Outfitters' recommendation system read your activity to update your
suggestions". Unknown codes fall back to plain words, never to the code itself.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta

from django.core.paginator import Page, Paginator
from django.utils import timezone

from accounts.models import AuditEvent, Customer

from .registry import PURPOSES, AuditAction, find, possessive

ITEMS_PER_PAGE = 50

SYSTEM_ACTORS = {
    "recommendations.recompute_customer": "recommendation system",
    "recommendations.train_brand": "recommendation system",
    "recommendations.nightly_retrain": "recommendation system",
    "transparency.retention_sweep": "automatic clean-up",
    "demo_data": "demo set-up",
    "load_movielens": "data import",
}


def _brand_name(event: AuditEvent) -> str:
    if event.actor_brand_id and event.actor_brand is not None:
        return event.actor_brand.name
    return event.actor_label.rsplit(" (", 1)[0] if event.actor_label else ""


def access_log_actor(event: AuditEvent) -> str:
    """Who acted, in words: "You", "Staff member ana", "Northwind's website"..."""
    if event.actor_kind == "customer":
        return "You"
    if event.actor_kind == "staff":
        user = event.actor_user if event.actor_user_id else None
        name = user.get_username() if user is not None else event.actor_label
        return f"Staff member {name}" if name else "A staff member"
    if event.actor_kind == "brand":
        brand = _brand_name(event) or "A brand"
        via = "website" if event.actor_label.endswith("(widget)") else "systems"
        return f"{possessive(brand)} {via}"
    system = SYSTEM_ACTORS.get(event.actor_label)
    if system is None:
        return "An automated process"
    brand = event.actor_brand.name if event.actor_brand_id and event.actor_brand else ""
    return f"{possessive(brand)} {system}" if brand else f"The {system}"


def _kinds_phrase(data_kind: str) -> str:
    """ "your activity", "your addresses and orders", "your choices"..."""
    names = [n for n in data_kind.split(",") if n] or [""]
    labels = []
    for name in names:
        kind = find(name)
        # A scope ("all") or a name no longer registered reads as plain "data".
        labels.append((kind.log_name or kind.label.lower()) if kind is not None else "data")
    if len(labels) > 1:
        return "your " + ", ".join(labels[:-1]) + " and " + labels[-1]
    return f"your {labels[0]}"


def _switch_phrase(event: AuditEvent, on: bool) -> str:
    if event.data_kind in ("consent", "") and event.object_ref:
        what = f"“{PURPOSES.get(event.object_ref, 'a use of your data')}”"
    elif event.object_ref:
        what = f"one item of {_kinds_phrase(event.data_kind)}"
    else:
        what = f"all {_kinds_phrase(event.data_kind)}"
    return f"switched {what} back on" if on else f"switched off {what} (kept, not used)"


def access_action(event: AuditEvent) -> str:
    """What was done, as the predicate of a sentence whose subject is the actor."""
    action, kind, reason = event.action, event.data_kind, event.reason
    data = _kinds_phrase(kind)
    if action == AuditAction.RECOMPUTE:
        if reason == "model retrained":
            return "read your activity to retrain its model and update your suggestions"
        return "read your activity to update your suggestions"
    if action in (AuditAction.USE_ON, AuditAction.USE_OFF):
        return _switch_phrase(event, action == AuditAction.USE_ON)
    if action == AuditAction.VIEW:
        where = " in the staff admin" if reason == "admin" else ""
        said = f" (reason given: {reason})" if reason and reason != "admin" else ""
        return f"looked at {data}{where}{said}"
    if action == AuditAction.INGEST:
        if kind == "account":
            return "created your customer record from its customer list"
        return f"sent {reason}" if reason else f"sent {data}"
    if action == AuditAction.CREATE:
        if kind == "account":
            return "created your account"
        if kind == "brand_link":
            return "linked your account with a brand"
        if reason == "not interested":
            return "noted a product you are not interested in"
        return f"added to {data}"
    if action == AuditAction.UPDATE:
        return f"chose a new default in {data}" if reason == "set default" else f"changed {data}"
    if action == AuditAction.DELETE:
        if event.actor_label == "transparency.retention_sweep":
            return f"deleted {data} that reached the end of its retention period"
        return f"deleted {data}"
    if action == AuditAction.REVEAL:
        return f"unmasked a field of {data} (reason given: {reason})"
    if action == AuditAction.EXTEND:
        return f"extended the deadline of your request ({reason})"
    if action == AuditAction.ERASE:
        return "closed the account and deleted everything held about you"
    if action == AuditAction.EXPORT:
        return "downloaded a copy of your data"
    if action == AuditAction.READ:
        return f"read {data}"
    return f"handled {data}"


def access_sentence(event: AuditEvent) -> str:
    return f"{access_log_actor(event)} {access_action(event)}"


def access_log(*, customer: Customer, page: int | str = 1) -> Page:
    qs = AuditEvent.objects.filter(customer=customer).select_related("actor_user", "actor_brand")
    return Paginator(qs, ITEMS_PER_PAGE).get_page(page)


@dataclass
class AccessLine:
    what: str
    first: datetime
    last: datetime
    times: int = 1


@dataclass
class AccessActor:
    who: str
    lines: list[AccessLine]


@dataclass
class AccessDay:
    day: date
    label: str
    actors: list[AccessActor]


def _day_label(day: date, today: date) -> str:
    if day == today:
        return "Today"
    if day == today - timedelta(days=1):
        return "Yesterday"
    return f"{day:%A} {day.day} {day:%B %Y}"


def access_log_days(events, *, today: date | None = None) -> list[AccessDay]:
    """Events (newest first) grouped by day, then by who acted; the same thing done by the
    same actor on the same day is one line with a count and a time span."""
    days: dict[date, dict[str, dict[str, AccessLine]]] = {}
    for event in events:
        when = timezone.localtime(event.created_at)
        actors = days.setdefault(when.date(), {})
        lines = actors.setdefault(access_log_actor(event), {})
        what = access_action(event)
        line = lines.get(what)
        if line is None:
            lines[what] = AccessLine(what=what, first=when, last=when)
        else:
            line.times += 1
            line.first = when
    today = today or timezone.localdate()
    return [
        AccessDay(
            day=day,
            label=_day_label(day, today),
            actors=[
                AccessActor(who=who, lines=list(lines.values())) for who, lines in actors.items()
            ],
        )
        for day, actors in days.items()
    ]
