"""bot.reminders' pure parts: typed times, the setting, and fire times in the person's zone across DST."""

from __future__ import annotations

from datetime import date, datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest

from bot.reminders import Reminder, fire_time, next_fire, parse_time, reminder_of

BERLIN = ZoneInfo("Europe/Berlin")
UTC = timezone.utc


@pytest.mark.parametrize(("typed", "minute"), [("21:30", 1290), ("9:05", 545), (" 07.30 ", 450), ("21h00", 1260),
                                               ("00:00", 0), ("23:59", 1439)])  # fmt: skip
def test_typed_times(typed: str, minute: int) -> None:
    assert parse_time(typed) == minute


@pytest.mark.parametrize("typed", ["", "24:00", "9", "21:60", "noon", "21:3", "-1:00"])
def test_what_is_not_a_time(typed: str) -> None:
    assert parse_time(typed) is None


def test_the_setting_round_trips_and_bad_values_mean_off() -> None:
    reminder = Reminder(21 * 60 + 30, 60)
    assert reminder.as_setting() == {"at": "21:30", "window_minutes": 60}
    assert reminder_of({"reminder": reminder.as_setting()}) == reminder
    assert reminder_of({}) is None
    assert reminder_of({"reminder": {"at": "25:00", "window_minutes": 0}}) is None
    assert reminder_of({"reminder": {"at": "08:00", "window_minutes": -5}}) is None


def test_same_local_time_across_both_dst_changes() -> None:
    nine = Reminder(9 * 60)
    # Spring forward on Sunday 29 March 2026: 09:00 is 08:00 UTC before, 07:00 UTC from that day on.
    after = datetime(2026, 3, 28, 8, 0, tzinfo=UTC)  # the moment Saturday's fired
    assert next_fire(nine, BERLIN, 1, after) == datetime(2026, 3, 29, 7, 0, tzinfo=UTC)
    # Fall back on Sunday 25 October 2026: 07:00 UTC on Saturday, 08:00 UTC on Sunday (25 hours later).
    after = datetime(2026, 10, 24, 7, 0, tzinfo=UTC)
    assert next_fire(nine, BERLIN, 1, after) == datetime(2026, 10, 25, 8, 0, tzinfo=UTC)


def test_a_time_inside_the_spring_gap_fires_just_after_it() -> None:
    # 02:30 does not exist in Berlin on 29 March 2026 (02:00 -> 03:00): it fires at 03:30 CEST = 01:30 UTC.
    assert fire_time(Reminder(150), date(2026, 3, 29), BERLIN, 1) == datetime(2026, 3, 29, 1, 30, tzinfo=UTC)
    # 02:30 exists twice on 25 October: the first one (CEST, 00:30 UTC).
    assert fire_time(Reminder(150), date(2026, 10, 25), BERLIN, 1) == datetime(2026, 10, 25, 0, 30, tzinfo=UTC)


def test_next_fire_is_strictly_after_and_today_when_still_ahead() -> None:
    reminder = Reminder(21 * 60)
    evening = datetime(2026, 6, 1, 18, 0, tzinfo=UTC)  # 20:00 in Berlin
    assert next_fire(reminder, BERLIN, 1, evening) == datetime(2026, 6, 1, 19, 0, tzinfo=UTC)
    assert next_fire(reminder, BERLIN, 1, datetime(2026, 6, 1, 19, 0, tzinfo=UTC)) == datetime(2026, 6, 2, 19, 0,
                                                                                               tzinfo=UTC)  # fmt: skip


def test_a_window_is_random_per_person_and_day_but_stable() -> None:
    reminder = Reminder(18 * 60, 180)
    day = date(2026, 6, 1)
    start = datetime(2026, 6, 1, 16, 0, tzinfo=UTC)
    times = [fire_time(reminder, day, BERLIN, user) for user in range(1, 40)]
    assert all(start <= t < start + timedelta(minutes=180) for t in times)
    assert len(set(times)) > 10  # spread out, not all at the start
    assert fire_time(reminder, day, BERLIN, 7) == fire_time(reminder, day, BERLIN, 7)  # a restart rolls nothing
    days = {fire_time(reminder, day + timedelta(days=n), BERLIN, 7).time() for n in range(10)}
    assert len(days) > 3
