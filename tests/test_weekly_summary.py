"""bot.weekly_summary.due_day: the chosen weekday, from SEND_AT local time, once per local date."""

from __future__ import annotations

from datetime import date, datetime, timezone
from zoneinfo import ZoneInfo

from bot.weekly_summary import SENT, SETTING, due_day, next_due

TOKYO = ZoneInfo("Asia/Tokyo")


def tokyo(day: int, hour: int, minute: int = 0) -> datetime:
    return datetime(2026, 3, day, hour, minute, tzinfo=TOKYO).astimezone(timezone.utc)


def test_due_on_the_local_weekday_from_the_evening_until_sent() -> None:
    settings = {SETTING: 0, "timezone": "Asia/Tokyo"}  # Mondays; 2 March 2026 is a Monday
    assert due_day(settings, tokyo(2, 17, 59)) is None
    assert due_day(settings, tokyo(2, 18, 0)) == date(2026, 3, 2)  # 09:00 UTC, still Monday morning in UTC
    assert due_day(settings, tokyo(2, 23, 59)) == date(2026, 3, 2)
    assert due_day({**settings, SENT: "2026-03-02"}, tokyo(2, 20, 0)) is None
    assert due_day({**settings, SENT: "2026-03-02"}, tokyo(9, 18, 0)) == date(2026, 3, 9)
    assert due_day(settings, tokyo(3, 18, 0)) is None  # Tuesday


def test_off_or_unreadable_settings_send_nothing() -> None:
    at = tokyo(2, 20, 0)
    for value in (None, 7, -1, "0", True):
        assert due_day({SETTING: value, "timezone": "Asia/Tokyo"}, at) is None
    assert due_day({}, at) is None


def test_the_next_summary_is_due_on_the_chosen_local_day_not_yet_sent() -> None:
    settings = {SETTING: 0, "timezone": "Asia/Tokyo"}  # Mondays; 2 March 2026 is a Monday
    assert next_due(settings, tokyo(1, 12, 0)) == tokyo(2, 18, 0)  # Sunday: tomorrow evening
    assert next_due(settings, tokyo(2, 20, 0)) == tokyo(2, 18, 0)  # Monday evening, not sent: due already
    assert next_due({**settings, SENT: "2026-03-02"}, tokyo(2, 20, 0)) == tokyo(9, 18, 0)
    assert next_due({SETTING: None}, tokyo(2, 20, 0)) is None
