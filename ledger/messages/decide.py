"""Which channel and when: a pure function of what Candor knows, with its reasons in words.

No ORM here: `selectors.reach_for` gathers a `Reach`, `decide` returns a `Decision`. Times
are the customer's local time (their contact preference's time zone, else the brand's), so
"quiet hours 21:00–08:00" mean 21:00 where they live, on both sides of a DST change.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from .models import Category, MessageChannel, MessageState

CHANNEL_NEEDS = {
    "email": ("has_email", "an email address"),
    "sms": ("has_phone", "a phone number"),
    "post": ("has_postal", "a postal address"),
}
CHANNEL_WORDS = {"email": "email", "sms": "SMS", "post": "post"}
CHANNEL_KIND = {"email": "personal_fact", "sms": "personal_fact", "post": "address"}


@dataclass(frozen=True)
class Reach:
    """What the decision may read about one customer and one brand."""

    category: str
    brand_name: str
    channel: str | None = None  # the contact preference's channel; None: none chosen
    pref_for_brand: bool = False  # chosen for this brand (else: for every brand)
    has_email: bool = False
    has_phone: bool = False
    has_postal: bool = False
    purpose_allowed: bool = True  # "Contacting you", account-wide
    brand_marketing_allowed: bool = True  # "Contacting you" for this brand
    quiet_start: time | None = None
    quiet_end: time | None = None
    time_zone: str = "UTC"
    chosen_hour: int | None = None  # the customer's own "best hour", local
    learned_hour_utc: int | None = None  # learned from activity, in UTC


@dataclass(frozen=True)
class Decision:
    state: str
    channel: str
    due_at: datetime
    why_channel: str
    why_time: str
    data_used: tuple[str, ...]


def zone(name: str) -> ZoneInfo:
    try:
        return ZoneInfo(name or "UTC")
    except (ZoneInfoNotFoundError, ValueError):
        return ZoneInfo("UTC")


def _local(day: date, at: time, tz: ZoneInfo) -> datetime:
    """`day` at `at` in `tz` as a real instant: a time skipped by a DST change moves on
    to the same wall-clock distance after it (02:30 on a spring-forward night is 03:30)."""
    return datetime.combine(day, at, tzinfo=tz).astimezone(UTC).astimezone(tz)


def _next_local(after: datetime, at: time, tz: ZoneInfo) -> datetime:
    """The first moment at or after `after` whose local time is `at`."""
    local = after.astimezone(tz)
    candidate = _local(local.date(), at, tz)
    if candidate < local:
        candidate = _local(local.date() + timedelta(days=1), at, tz)
    return candidate


def in_quiet_hours(moment: time, start: time | None, end: time | None) -> bool:
    if start is None or end is None:
        return False
    if start < end:
        return start <= moment < end
    return moment >= start or moment < end  # across midnight: 21:00–08:00


def _hm(at: time | datetime) -> str:
    return f"{at:%H:%M}"


def _channel(reach: Reach) -> tuple[str, str, list[str]]:
    """(channel, why, kinds read)."""
    whose = f"for {reach.brand_name}" if reach.pref_for_brand else "for every brand"
    if reach.channel is None:
        wanted, why = "email", f"you have not chosen a channel {whose}, and email is the default"
        used: list[str] = []
    elif reach.channel == "none":
        why = f"you chose not to be contacted {whose}"
        return MessageChannel.INBOX, f"Kept in your Candor inbox: {why}.", ["contact_preference"]
    else:
        wanted, used = reach.channel, ["contact_preference"]
        why = f"as you chose {whose}"
    flag, noun = CHANNEL_NEEDS[wanted]
    if not getattr(reach, flag):
        return (
            MessageChannel.INBOX,
            f"Kept in your Candor inbox: {CHANNEL_WORDS[wanted]} is your channel, but there "
            f"is no {noun.split(' ', 1)[1]} on file.",
            [*used, CHANNEL_KIND[wanted]],
        )
    return wanted, f"By {CHANNEL_WORDS[wanted]}, {why}.", [*used, CHANNEL_KIND[wanted]]


def _when(reach: Reach, now: datetime, tz: ZoneInfo) -> tuple[datetime, str, list[str]]:
    """(due, why, kinds read) for a message that goes out on a channel."""
    used: list[str] = []
    if reach.category == Category.SERVICE:
        due, because = now, "it is about your account"
    elif reach.chosen_hour is not None:
        due = _next_local(now, time(reach.chosen_hour), tz)
        because = f"at {_hm(due.astimezone(tz))}, the hour you chose"
        used.append("contact_preference")
    elif reach.learned_hour_utc is not None:
        due = _next_local(now, time(reach.learned_hour_utc), ZoneInfo("UTC"))
        because = f"at your usual {_hm(due.astimezone(tz))} (learned from your activity)"
        used.append("contact_hour")
    else:
        due, because = now, "no usual hour of yours is known yet"
    quiet = f"{_hm(reach.quiet_start)}–{_hm(reach.quiet_end)}" if reach.quiet_start else ""
    if quiet and in_quiet_hours(due.astimezone(tz).time(), reach.quiet_start, reach.quiet_end):
        used.append("contact_preference")
        end = _next_local(due, reach.quiet_end, tz)  # type: ignore[arg-type]
        held_back = f", not {because}" if due > now else ""
        why = f"At {_hm(end.astimezone(tz))}, after your quiet hours {quiet}{held_back}"
        due = end
    elif due <= now:
        outside = f", outside your quiet hours {quiet}" if quiet else ""
        why = f"Straight away: {because}{outside}"
        due = now
    else:
        outside = f", outside your quiet hours {quiet}" if quiet else ""
        why = f"{because[0].upper()}{because[1:]}{outside}"
    return due, f"{why} ({tz.key} time).", used


def decide(*, reach: Reach, now: datetime) -> Decision:
    """Where and when this message goes, and why. `now` must be timezone-aware."""
    tz = zone(reach.time_zone)
    if reach.category == Category.MARKETING and not (
        reach.purpose_allowed and reach.brand_marketing_allowed
    ):
        whose = "" if not reach.purpose_allowed else f" for {reach.brand_name}"
        return Decision(
            state=MessageState.SUPPRESSED,
            channel=MessageChannel.INBOX,
            due_at=now,
            why_channel=f"Not sent: you switched off “Contacting you”{whose}.",
            why_time="Never: marketing waits for your permission.",
            data_used=("consent",) if not reach.purpose_allowed else ("contact_preference",),
        )
    channel, why_channel, used = _channel(reach)
    if channel == MessageChannel.INBOX:
        return Decision(
            state=MessageState.HELD,
            channel=channel,
            due_at=now,
            why_channel=why_channel,
            why_time="Put in your inbox straight away.",
            data_used=tuple(dict.fromkeys(used)),
        )
    due, why_time, more = _when(reach, now, tz)
    if reach.category == Category.MARKETING:
        more.append("consent")
    return Decision(
        state=MessageState.SCHEDULED,
        channel=channel,
        due_at=due,
        why_channel=why_channel,
        why_time=why_time,
        data_used=tuple(dict.fromkeys([*used, *more])),
    )
