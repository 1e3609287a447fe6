"""bot.history_calendar: local days across DST, streaks, weekday leanings and the calendar picture."""

from __future__ import annotations

import io
import os
import random
from datetime import date, datetime, time, timedelta, timezone
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from PIL import Image

from bot.handlers.history import calendar_labels, days_text
from bot.history_calendar import (
    COLOURS,
    EMPTY_COLOUR,
    OTHER_COLOUR,
    CalendarLabels,
    Streaks,
    colour,
    day_buckets,
    dominant_by_day,
    last_months,
    local_day,
    months_between,
    plain,
    render_calendar,
    streaks,
    weekday_leanings,
    year_start,
)
from dialogs import load_dialogs

BERLIN = ZoneInfo("Europe/Berlin")
UTC = ZoneInfo("UTC")
LABELS = CalendarLabels(
    title="Your days",
    months=[f"M{i}" for i in range(1, 13)],
    months_short=[f"m{i}" for i in range(1, 13)],
    weekdays_short=list("MTWTFSS"),
    emotions={"happy": "Happy", "sad": "Sad"},
    other="mixed or other",
    no_checkin="no check-in",
)


def berlin(day: int, hour: int, minute: int, month: int = 3) -> datetime:
    """A Berlin wall-clock time in 2026, as the UTC instant the store keeps."""
    return datetime(2026, month, day, hour, minute, tzinfo=BERLIN).astimezone(timezone.utc)


def test_late_evening_check_ins_land_on_their_local_day_across_the_spring_dst_change() -> None:
    # 2026-03-29 is the last Sunday of March: Berlin goes from UTC+1 to UTC+2 at 02:00.
    before, on, after = berlin(28, 23, 30), berlin(29, 23, 30), berlin(30, 23, 30)
    assert (before.hour, on.hour, after.hour) == (22, 21, 21)  # the offset changed in between
    # 00:15 on the 30th is 22:15 UTC on the 29th: a fixed +1 offset (winter time) would call it the 29th.
    just_after_midnight = berlin(30, 0, 15)
    assert just_after_midnight == datetime(2026, 3, 29, 22, 15, tzinfo=timezone.utc)
    buckets = day_buckets([(before, "sad"), (on, "happy"), (just_after_midnight, "fear"), (after, "fear")], BERLIN)
    assert buckets == {date(2026, 3, 28): ["sad"], date(2026, 3, 29): ["happy"], date(2026, 3, 30): ["fear", "fear"]}
    # The same instants in UTC fall on other days: the zone is what decides.
    assert local_day(just_after_midnight, UTC) == date(2026, 3, 29)
    assert local_day(berlin(29, 0, 30), UTC) == date(2026, 3, 28)


def test_autumn_dst_change_keeps_late_check_ins_on_their_day() -> None:
    # 2026-10-25: Berlin goes back from UTC+2 to UTC+1; the day has 25 hours.
    days = day_buckets([(berlin(24, 23, 30, 10), "sad"), (berlin(25, 23, 30, 10), "happy")], BERLIN)
    assert sorted(days) == [date(2026, 10, 24), date(2026, 10, 25)]
    assert streaks(days, date(2026, 10, 25)) == streaks(days, date(2026, 10, 26))


def test_streaks_current_and_longest() -> None:
    days = [date(2026, 3, d) for d in (1, 2, 3, 4, 10, 11, 13, 14, 15)]
    assert streaks(days, date(2026, 3, 15)).current == 3
    assert streaks(days, date(2026, 3, 16)).current == 3  # no check-in yet today: the streak is not broken yet
    assert streaks(days, date(2026, 3, 17)).current == 0  # a whole day missed
    assert streaks(days, date(2026, 3, 15)).longest == 4
    assert streaks([], date(2026, 3, 15)).current == streaks([], date(2026, 3, 15)).longest == 0
    # Several check-ins on one day are one day; month and year ends do not break a run.
    year_end = [date(2025, 12, 30), date(2025, 12, 31), date(2026, 1, 1), date(2026, 1, 1)]
    assert (streaks(year_end, date(2026, 1, 1)).current, streaks(year_end, date(2026, 1, 1)).longest) == (3, 3)


def test_streak_across_the_dst_night_counts_three_days() -> None:
    moments = [(berlin(d, 23, 30), "happy") for d in (28, 29, 30)]
    today = local_day(berlin(30, 23, 45), BERLIN)
    assert streaks(day_buckets(moments, BERLIN), today).current == 3
    # Counted in UTC the 23:30 check-ins of the 29th and 30th are still the 29th and 30th; not so at 00:15.
    assert streaks(day_buckets([(berlin(29, 0, 15), "sad"), (berlin(30, 0, 15), "sad")], BERLIN), today).current == 2


def test_dominant_emotion_of_a_day_ties_go_to_the_latest() -> None:
    day = date(2026, 3, 2)
    assert dominant_by_day({day: ["sad", "happy", "sad"]}) == {day: "sad"}
    assert dominant_by_day({day: ["sad", "happy"]}) == {day: "happy"}
    assert dominant_by_day({day: ["mixed"]}) == {day: "mixed"}


def test_weekday_leanings_need_two_check_ins_and_use_local_weekdays() -> None:
    # Mondays 2, 9 and 16 March 2026 (sad, sad, happy); one Saturday (too few); Sunday 23:30 in Berlin.
    moments = [
        (berlin(2, 9, 0), "sad"),
        (berlin(9, 9, 0), "sad"),
        (berlin(16, 9, 0), "happy"),
        (berlin(7, 12, 0), "happy"),
        (berlin(1, 23, 30), "happy"),
        (berlin(8, 23, 30), "mixed"),
        (berlin(15, 23, 30), "mixed"),
    ]
    assert weekday_leanings(moments, BERLIN) == [(0, "sad"), (6, "mixed")]
    # In UTC+14 the Sunday evenings are Monday noons and the Saturday a Sunday: six Monday check-ins, two each
    # of sad, happy and mixed (none is half of them: Monday leans nowhere), and one lone Sunday.
    assert weekday_leanings(moments, ZoneInfo("Pacific/Kiritimati")) == [(0, None)]
    # Half is enough, unless another emotion is as frequent.
    monday = [(berlin(d, 9, 0), e) for d, e in ((2, "sad"), (9, "happy"), (16, "sad"), (23, "angry"))]
    assert weekday_leanings(monday, BERLIN) == [(0, "sad")]
    assert weekday_leanings([*monday[:3], (berlin(23, 9, 0), "happy")], BERLIN) == [(0, None)]


def test_months_and_labels() -> None:
    assert months_between(date(2026, 1, 30), date(2026, 3, 1)) == [(2026, 1), (2026, 2), (2026, 3)]
    assert last_months(date(2026, 3, 5)) == [(2025, m) for m in range(4, 13)] + [(2026, 1), (2026, 2), (2026, 3)]
    assert plain("😢 Sad") == "Sad" and plain("☺️ Heiter") == "Heiter"
    assert colour("happy") == COLOURS["happy"] and colour("mixed") == OTHER_COLOUR and colour(None) == EMPTY_COLOUR


def _pixels(png: bytes) -> set[tuple[int, int, int]]:
    image = Image.open(io.BytesIO(png)).convert("RGB")
    return set(image.getdata())


def _rgb(hex_colour: str) -> tuple[int, int, int]:
    return tuple(int(hex_colour[i : i + 2], 16) for i in (1, 3, 5))  # type: ignore[return-value]


@pytest.mark.parametrize("year_view", [False, True])
def test_calendar_paints_each_day_in_its_emotion_and_unknown_ones_grey(year_view: bool) -> None:
    days = {date(2026, 3, 2): "sad", date(2026, 3, 3): "happy", date(2026, 3, 4): "mixed"}
    first = year_start(date(2026, 3, 31)) if year_view else date(2026, 3, 1)
    png = render_calendar(days, first, date(2026, 3, 31), LABELS, year_view=year_view)
    assert png[:8] == b"\x89PNG\r\n\x1a\n"
    seen = _pixels(png)
    for wanted in (COLOURS["sad"], COLOURS["happy"], OTHER_COLOUR, EMPTY_COLOUR):
        assert _rgb(wanted) in seen
    assert _rgb(COLOURS["angry"]) not in seen  # no angry day: neither a cell nor a legend entry
    assert len(png) < 150_000


def test_calendar_needs_a_month() -> None:
    with pytest.raises(ValueError):
        render_calendar({}, date(2026, 3, 2), date(2026, 3, 1), LABELS, year_view=False)


def test_a_thirty_day_period_can_span_three_months() -> None:
    today = date(2026, 3, 1)
    assert months_between(today - timedelta(days=30), today) == [(2026, 1), (2026, 2), (2026, 3)]


#: The README's picture: rendered from synthetic check-ins, so it is the same on every machine.
README_PICTURE = Path(__file__).resolve().parents[1] / "docs" / "history-calendar.png"
README = README_PICTURE.parents[1] / "README.md"


def example_moments(seed: int = 35) -> list[tuple[datetime, str]]:
    """About two months of a made-up diary in Berlin: most days a check-in or two, Mondays lower, weekends brighter."""
    rng = random.Random(seed)
    moments = []
    for offset in range(61):
        day = date(2026, 2, 1) + timedelta(days=offset)
        if rng.random() < 0.15:  # a day off now and then breaks the streak
            continue
        weights = {"happy": 4, "neutral": 3, "surprise": 1, "sad": 2, "angry": 1, "fear": 1, "mixed": 1}
        if day.weekday() == 0:
            weights["sad"] += 6
        if day.weekday() >= 5:
            weights["happy"] += 6
        for _ in range(rng.choice((1, 1, 2))):
            emotion = rng.choices(list(weights), list(weights.values()))[0]
            at = datetime.combine(day, time(rng.randint(7, 23), rng.randint(0, 59)), BERLIN)
            moments.append((at.astimezone(timezone.utc), emotion))
    return moments


def test_readme_picture(tmp_path: Path) -> None:
    """UPDATE_SCREENSHOT=1 writes docs/history-calendar.png; otherwise the picture is only rendered and checked."""
    dialogs = load_dialogs()
    moments = example_moments()
    today = date(2026, 3, 20)
    first = today - timedelta(days=29)  # "the last 30 days" include today, as in the handler
    days = {d: e for d, e in dominant_by_day(day_buckets(moments, BERLIN)).items() if first <= d <= today}
    labels = calendar_labels(dialogs, dialogs.text("history_periods.30d"), set(days.values()))
    png = render_calendar(days, first, today, labels, year_view=False)
    assert len(png) < 150_000
    # The README quotes the caption: keep it true to the picture.
    shown = [m for m in moments if first <= local_day(m[0], BERLIN) <= today]
    until_today = day_buckets([m for m in moments if local_day(m[0], BERLIN) <= today], BERLIN)
    caption = days_text(dialogs, streaks(until_today, today), weekday_leanings(shown, BERLIN))
    assert caption in README.read_text(encoding="utf-8").replace("\n> ", "\n")
    target = README_PICTURE if os.environ.get("UPDATE_SCREENSHOT") == "1" else tmp_path / README_PICTURE.name
    target.write_bytes(png)


def test_caption_says_whether_weekdays_lean_are_mixed_or_too_few() -> None:
    dialogs = load_dialogs()
    streak = Streaks(current=2, longest=7)
    mixed = days_text(dialogs, streak, [(0, None)])
    assert mixed == "\n".join(
        [dialogs.text("history.streaks", current=2, longest=7), dialogs.text("history.weekdays_even")]
    )
    assert dialogs.text("history.weekdays_too_few", count=2) in days_text(dialogs, streak, [])
    leaning = days_text(dialogs, streak, [(0, "sad"), (1, None), (5, "mixed")])
    assert leaning.endswith("Mondays lean 😢 Sad, Saturdays lean 🌗 Mixed.")
