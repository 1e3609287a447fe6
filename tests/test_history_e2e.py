"""/history's calendar, streaks and weekday leanings, end to end through the sandbox, in the person's time zone."""

from __future__ import annotations

import io
from datetime import datetime, timezone
from typing import Any
from zoneinfo import ZoneInfo

import aiohttp
import pytest
from PIL import Image
from test_bot_e2e import ALICE, DIALOGS, PHOTOS, Bot, Person, agreed

from bot import weekly_summary
from bot.history_chart import COLOURS
from dialogs.i18n import load_texts

BERLIN = ZoneInfo("Europe/Berlin")
SAD = (0.05, 0.0, 0.05, 0.0, 0.8, 0.0, 0.1)
HAPPY = (0.0, 0.0, 0.0, 0.9, 0.0, 0.05, 0.05)
PNG = b"\x89PNG\r\n\x1a\n"
TEXTS = load_texts()

pytestmark = pytest.mark.skipif(not (PHOTOS / "obama.jpg").exists(), reason=f"shared photos missing in {PHOTOS}")


def berlin(day: int, hour: int, minute: int, month: int = 3) -> datetime:
    """A Berlin wall-clock time in 2026 as the UTC instant the store keeps."""
    return datetime(2026, month, day, hour, minute, tzinfo=BERLIN).astimezone(timezone.utc)


async def picture(http: aiohttp.ClientSession, message: dict[str, Any]) -> bytes:
    assert message["kind"] == "photo" and message["file"]["mime_type"] == "image/png"
    async with http.get(message["file"]["url"]) as resp:
        data = await resp.read()
    assert data[:8] == PNG
    return data


def colours_in(png: bytes) -> set[tuple[int, int, int]]:
    return set(Image.open(io.BytesIO(png)).convert("RGB").getdata())


def rgb(hex_colour: str) -> tuple[int, int, int]:
    return (int(hex_colour[1:3], 16), int(hex_colour[3:5], 16), int(hex_colour[5:7], 16))


async def test_calendar_streaks_and_weekdays_in_berlin_across_the_dst_change(
    bot: Bot, http: aiohttp.ClientSession, monkeypatch: pytest.MonkeyPatch
) -> None:
    store = bot.services.store
    await agreed(bot, ALICE)
    await store.update_settings(ALICE, timezone="Europe/Berlin")
    # Late evenings around the switch to summer time (Sunday 29 March 2026), and one just after midnight:
    # 00:15 on Tuesday the 31st is 22:15 UTC on Monday the 30th, so only Berlin days give a 5-day streak.
    await store.add_checkin(ALICE, SAD, "sad", 1, at=berlin(23, 23, 30))  # a Monday
    for day in (27, 28, 29):
        await store.add_checkin(ALICE, HAPPY, "happy", 1, at=berlin(day, 23, 30))
    monday = await store.add_checkin(ALICE, HAPPY, "happy", 1, at=berlin(30, 23, 30))
    await store.correct_checkin(ALICE, monday, "sad")  # as the person said: this Monday was sad
    await store.add_checkin(ALICE, HAPPY, "happy", 1, at=berlin(31, 0, 15))
    monkeypatch.setattr(bot.services, "clock", lambda: berlin(31, 12, 0))  # "today" is Tuesday 31 March in Berlin

    alice = Person(http, ALICE)
    sent = await alice.say("/history")
    chart, days = await alice.replies(sent, 2)
    await picture(http, chart)
    assert "(6 check-ins)" in chart["caption"]
    calendar = await picture(http, days)
    assert len(calendar) < 150_000
    assert DIALOGS.text("history.streaks", current=5, longest=5) in days["caption"]
    sad_mondays = DIALOGS.text(
        "history.weekday_leaning", weekday=DIALOGS.text("history.weekdays_many.mon"), emotion=DIALOGS.label("sad")
    )
    assert DIALOGS.text("history.weekdays", leanings=sad_mondays) in days["caption"]  # one weekday has two
    seen = colours_in(calendar)
    assert rgb(COLOURS["sad"]) in seen and rgb(COLOURS["happy"]) in seen and rgb(COLOURS["angry"]) not in seen

    # "all": the year in pixels arrives too, with the same streaks; a day later without a check-in the
    # streak still stands, two days later it is broken but the longest stays.
    monkeypatch.setattr(bot.services, "clock", lambda: berlin(1, 12, 0, month=4))
    sent = await alice.say("/history all")
    _, year = await alice.replies(sent, 2)
    await picture(http, year)
    assert DIALOGS.text("history.streaks", current=5, longest=5) in year["caption"]
    monkeypatch.setattr(bot.services, "clock", lambda: berlin(2, 12, 0, month=4))
    sent = await alice.say("/history all")
    _, year = await alice.replies(sent, 2)
    assert DIALOGS.text("history.streaks", current=0, longest=5) in year["caption"]


async def test_a_single_check_in_says_weekdays_need_more(bot: Bot, http: aiohttp.ClientSession) -> None:
    await agreed(bot, ALICE)
    await bot.services.store.add_checkin(ALICE, HAPPY, "happy", 1)  # now, in UTC (no zone set)
    alice = Person(http, ALICE)
    sent = await alice.say("/history 7d")
    _, days = await alice.replies(sent, 2)
    await picture(http, days)
    assert DIALOGS.text("history.streaks", current=1, longest=1) in days["caption"]
    assert DIALOGS.text("history.weekdays_too_few", count=2) in days["caption"]


async def test_weekly_summary_arrives_once_on_the_chosen_local_day_in_the_persons_language(
    bot: Bot, http: aiohttp.ClientSession, monkeypatch: pytest.MonkeyPatch
) -> None:
    store = bot.services.store
    await agreed(bot, ALICE)
    # Sundays, in Berlin, in Spanish; check-ins on three days of the week before Sunday 29 March (the DST day).
    await store.update_settings(ALICE, timezone="Europe/Berlin", weekly_summary=6, language="es")
    for day in (23, 25, 27):
        await store.add_checkin(ALICE, HAPPY, "happy", 1, at=berlin(day, 20, 0))
    await store.add_checkin(ALICE, SAD, "sad", 1, at=berlin(10, 9, 0))  # two weeks back: not in this summary
    alice = Person(http, ALICE)
    await alice.replies(await alice.say("/help"), 1)  # the chat exists once the person has written
    before = await alice.last_id()

    async def send_at(at: datetime) -> list[int]:
        monkeypatch.setattr(bot.services, "clock", lambda: at)
        return await weekly_summary.send_due(bot.services, bot.app.bot)

    assert await send_at(berlin(28, 20, 0)) == []  # Saturday
    assert await send_at(berlin(29, 17, 59)) == []  # Sunday, before 18:00 in Berlin
    assert await send_at(berlin(29, 18, 0)) == [ALICE]  # 16:00 UTC: counted in UTC it would still wait
    assert await send_at(berlin(29, 21, 0)) == []  # once a day, not once a tick
    [summary] = await alice.replies(before, 1)
    spanish = TEXTS.for_language("es")
    period = spanish.text("history_periods.7d")
    assert summary["text"].startswith(spanish.text("history.weekly_intro"))
    assert spanish.text("history_header", period=period, count=3) in summary["text"]
    assert spanish.text("history.streaks", current=0, longest=1) in summary["text"]

    # A week without check-ins gets a nudge; a person who blocked the bot gets nothing more, and it turns off.
    before = await alice.last_id()
    assert await send_at(berlin(5, 18, 30, month=4)) == [ALICE]
    [nudge] = await alice.replies(before, 1)
    assert nudge["text"] == spanish.text("history.weekly_empty")
    async with http.post(f"/sandbox/chats/{ALICE}/block", json={"blocked": True}) as resp:
        assert resp.status == 200
    assert await send_at(berlin(12, 18, 30, month=4)) == []
    assert "weekly_summary" not in await store.settings(ALICE)
