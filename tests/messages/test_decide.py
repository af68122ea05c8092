"""The channel and time decision: pure, with its reasons in words, in the customer's time."""

from datetime import UTC, datetime, time

from freezegun import freeze_time

from ledger.messages.decide import Reach, decide, in_quiet_hours


def _reach(**overrides) -> Reach:
    values = {
        "category": "service",
        "brand_name": "Northwind",
        "channel": "email",
        "pref_for_brand": True,
        "has_email": True,
        "time_zone": "Europe/London",
    }
    values.update(overrides)
    return Reach(**values)


def _now() -> datetime:
    return datetime.now(UTC)


@freeze_time("2026-06-10 22:30:00")  # 23:30 in London (BST)
def test_a_service_message_inside_quiet_hours_waits_for_their_end():
    decision = decide(reach=_reach(quiet_start=time(21), quiet_end=time(8)), now=_now())

    assert decision.state == "scheduled" and decision.channel == "email"
    assert decision.due_at == datetime(2026, 6, 11, 7, 0, tzinfo=UTC)  # 08:00 BST
    assert decision.why_time == (
        "At 08:00, after your quiet hours 21:00–08:00 (Europe/London time)."
    )
    assert decision.why_channel == "By email, as you chose for Northwind."


@freeze_time("2026-06-10 12:00:00")
def test_a_service_message_outside_quiet_hours_goes_straight_away():
    decision = decide(reach=_reach(quiet_start=time(21), quiet_end=time(8)), now=_now())

    assert decision.due_at == _now()
    assert decision.why_time.startswith("Straight away: it is about your account, outside")


@freeze_time("2026-06-10 12:00:00")
def test_marketing_goes_at_the_learned_hour_in_local_words():
    reach = _reach(category="marketing", learned_hour_utc=18)  # 19:00 in London in June

    decision = decide(reach=reach, now=_now())

    assert decision.due_at == datetime(2026, 6, 10, 18, 0, tzinfo=UTC)
    assert "at your usual 19:00 (learned from your activity)" in decision.why_time.lower()
    assert "contact_hour" in decision.data_used


@freeze_time("2026-06-10 12:00:00")
def test_the_customers_chosen_hour_beats_the_learned_one():
    reach = _reach(category="marketing", learned_hour_utc=18, chosen_hour=9)

    decision = decide(reach=reach, now=_now())

    assert decision.due_at == datetime(2026, 6, 11, 8, 0, tzinfo=UTC)  # 09:00 BST tomorrow
    assert "the hour you chose" in decision.why_time
    assert "contact_hour" not in decision.data_used


@freeze_time("2026-06-10 12:00:00")
def test_a_usual_hour_inside_quiet_hours_moves_to_their_end_and_says_both():
    reach = _reach(
        category="marketing", learned_hour_utc=21, quiet_start=time(21), quiet_end=time(8)
    )  # 22:00 London: quiet

    decision = decide(reach=reach, now=_now())

    assert decision.due_at == datetime(2026, 6, 11, 7, 0, tzinfo=UTC)
    assert decision.why_time == (
        "At 08:00, after your quiet hours 21:00–08:00, not at your usual 22:00 (learned "
        "from your activity) (Europe/London time)."
    )


@freeze_time("2026-06-10 22:30:00")
def test_the_same_instant_is_quiet_in_one_time_zone_and_not_in_another():
    quiet = {"quiet_start": time(21), "quiet_end": time(8)}

    london = decide(reach=_reach(**quiet), now=_now())
    new_york = decide(reach=_reach(time_zone="America/New_York", **quiet), now=_now())

    assert london.due_at > _now()  # 23:30 in London
    assert new_york.due_at == _now()  # 18:30 in New York
    assert "America/New_York" in new_york.why_time


@freeze_time("2026-03-28 23:30:00")  # London, the night the clocks go forward (01:00 -> 02:00)
def test_quiet_hours_end_at_local_eight_across_the_spring_dst_change():
    decision = decide(reach=_reach(quiet_start=time(22), quiet_end=time(8)), now=_now())

    # 08:00 on 29 March is BST (UTC+1): 07:00 UTC, not 08:00 UTC.
    assert decision.due_at == datetime(2026, 3, 29, 7, 0, tzinfo=UTC)


@freeze_time("2026-10-24 23:30:00")  # the night the clocks go back (02:00 -> 01:00)
def test_quiet_hours_end_at_local_eight_across_the_autumn_dst_change():
    decision = decide(reach=_reach(quiet_start=time(22), quiet_end=time(8)), now=_now())

    assert decision.due_at == datetime(2026, 10, 25, 8, 0, tzinfo=UTC)  # GMT again


@freeze_time("2026-03-29 00:30:00")
def test_an_hour_the_dst_change_skips_moves_on_instead_of_vanishing():
    # 01:00–01:59 does not exist in London on 29 March 2026: 01:00 GMT is 02:00 BST.
    decision = decide(reach=_reach(category="marketing", chosen_hour=1), now=_now())

    assert decision.due_at == datetime(2026, 3, 29, 1, 0, tzinfo=UTC)
    assert "At 02:00, the hour you chose" in decision.why_time


@freeze_time("2026-06-10 12:00:00")
def test_marketing_is_withheld_when_contacting_you_is_off():
    account_off = decide(reach=_reach(category="marketing", purpose_allowed=False), now=_now())
    brand_off = decide(
        reach=_reach(category="marketing", brand_marketing_allowed=False), now=_now()
    )

    assert account_off.state == brand_off.state == "suppressed"
    assert account_off.why_channel == "Not sent: you switched off “Contacting you”."
    assert brand_off.why_channel == "Not sent: you switched off “Contacting you” for Northwind."


@freeze_time("2026-06-10 12:00:00")
def test_service_messages_ignore_the_marketing_switch():
    decision = decide(
        reach=_reach(purpose_allowed=False, brand_marketing_allowed=False), now=_now()
    )

    assert decision.state == "scheduled"


@freeze_time("2026-06-10 12:00:00")
def test_no_channel_or_no_address_keeps_it_in_the_inbox_and_says_why():
    none = decide(reach=_reach(channel="none"), now=_now())
    no_phone = decide(reach=_reach(channel="sms", has_phone=False), now=_now())
    default = decide(reach=_reach(channel=None, pref_for_brand=False), now=_now())

    assert (none.state, none.channel) == ("held", "inbox")
    assert (
        none.why_channel
        == "Kept in your Candor inbox: you chose not to be contacted for Northwind."
    )
    assert no_phone.why_channel == (
        "Kept in your Candor inbox: SMS is your channel, but there is no phone number on file."
    )
    assert default.channel == "email" and "email is the default" in default.why_channel


def test_quiet_hours_across_midnight_and_within_a_day():
    assert in_quiet_hours(time(23), time(21), time(8))
    assert in_quiet_hours(time(7, 59), time(21), time(8))
    assert not in_quiet_hours(time(8), time(21), time(8))
    assert in_quiet_hours(time(13), time(12), time(14))
    assert not in_quiet_hours(time(14), time(12), time(14))
