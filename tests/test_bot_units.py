"""Unit tests for the bot's pure parts: support rule, history words and chart, reply texts (the rate limiter,
which keeps its counts in the database: tests/test_shared_state.py)."""

from __future__ import annotations

import asyncio
import logging
from datetime import datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import aiohttp
import pytest
from matplotlib.dates import date2num
from telegram import InlineKeyboardButton, InlineKeyboardMarkup

from bot.downloads import ByteBudget
from bot.handlers.history import chart_labels, parse_period, summary_text, trend_text
from bot.history_chart import MoodPoint, date_formatter, dominant, mood_point, render_chart, running_average
from bot.keyboards import mark_vote
from bot.logging_setup import RedactingFormatter
from bot.polling import HandledTracker
from bot.recognition import reading_text
from bot.replies import clip, emotion_share, percent
from bot.support import needs_support, should_show_notice
from bot.webhook_server import WebhookServer
from dialogs import load_dialogs
from dialogs.i18n import load_texts
from fer_engine import Analysis, Box, FaceResult

DIALOGS = load_dialogs()
NOW = datetime(2026, 3, 1, 12, 0, tzinfo=timezone.utc)


def days_ago(days: float) -> datetime:
    return NOW - timedelta(days=days)


# -- support rule ---------------------------------------------------------------------------------------------


def test_support_needs_four_of_the_last_five_low() -> None:
    low = [(days_ago(i), e) for i, e in enumerate(["sad", "fear", "angry", "sad", "happy"])]
    assert needs_support(low, NOW)
    three = [(days_ago(i), e) for i, e in enumerate(["sad", "fear", "happy", "sad", "neutral"])]
    assert not needs_support(three, NOW)
    assert not needs_support([(days_ago(0), "sad")] * 3, NOW)  # too few to say anything


def test_support_only_counts_the_latest_five_within_14_days() -> None:
    old_lows = [(days_ago(20 + i), "sad") for i in range(5)]
    assert not needs_support(old_lows + [(days_ago(1), "happy")], NOW)
    # Five recent happy ones push older lows out of the window of five.
    mixed = [(days_ago(10 + i), "sad") for i in range(4)] + [(days_ago(i), "happy") for i in range(5)]
    assert not needs_support(mixed, NOW)
    assert not needs_support([(days_ago(i), "disgust") for i in range(5)], NOW)  # disgust is not "low" here


def test_notice_when_the_rule_starts_to_hold_then_not_again_the_same_day() -> None:
    history = [(NOW - timedelta(hours=h), "sad") for h in (5, 4, 3)]
    crossing = [*history, (NOW, "sad")]
    assert should_show_notice(crossing, NOW)
    later = NOW + timedelta(hours=1)
    assert not should_show_notice([*crossing, (later, "fear")], later)
    next_week = NOW + timedelta(days=2)
    assert should_show_notice([*crossing, (next_week, "angry")], next_week)
    assert not should_show_notice([], NOW)
    assert not should_show_notice([(NOW, "happy")], NOW)


# -- history --------------------------------------------------------------------------------------------------


def points(emotions: str) -> list[MoodPoint]:
    names = {"h": "happy", "s": "sad", "n": "neutral", "a": "angry"}
    return [MoodPoint(days_ago(len(emotions) - i), names[c], 0.0) for i, c in enumerate(emotions)]


def test_trend_words() -> None:
    def trend_words(shown: list[MoodPoint]) -> str:
        return trend_text(DIALOGS, shown)

    assert trend_words(points("ssshhh")).startswith("Trend: brighter lately")
    assert "from 0% to 100%" in trend_words(points("ssshhh"))
    assert trend_words(points("hhhsss")).startswith("Trend: lower lately")
    assert "negative ones from 0% to 100%" in trend_words(points("hhhsss"))
    assert trend_words(points("hsnhsn")).startswith("Trend: fairly steady")
    assert trend_words(points("nnnn")).startswith("Trend: fairly steady")
    assert "too few" in trend_words(points("hs"))
    # Order is by time, not by list position.
    assert trend_words(list(reversed(points("ssshhh")))).startswith("Trend: brighter lately")


def test_dominant_and_valence() -> None:
    assert dominant(points("hhsan")) == [("happy", 2), ("angry", 1), ("sad", 1)]
    happy = mood_point(NOW, "happy", (0, 0, 0, 1, 0, 0, 0), corrected=False)
    assert happy.valence == 1.0
    corrected = mood_point(NOW, "sad", (0, 0, 0, 1, 0, 0, 0), corrected=True)
    assert corrected.valence == -1.0
    mixed = mood_point(NOW, "happy", (0, 0, 0, 0.5, 0.5, 0, 0), corrected=False)
    assert mixed.valence == 0.0
    assert running_average([1.0, 0.0, -1.0, -1.0]) == [1.0, 0.5, 0.0, pytest.approx(-2 / 3)]


def test_chart_is_a_png() -> None:
    labels = chart_labels(DIALOGS, "last 7 days", ZoneInfo("UTC"))
    png = render_chart(points("hsnah"), labels)
    assert png[:8] == b"\x89PNG\r\n\x1a\n" and len(png) > 5000
    assert render_chart(points("h"), labels)[:4] == b"\x89PNG"
    with pytest.raises(ValueError):
        render_chart([], labels)


def test_chart_words_and_dates_follow_the_language() -> None:
    spanish = load_texts().for_language("es")
    labels = chart_labels(spanish, spanish.text("history_periods.7d"), ZoneInfo("Europe/Madrid"))
    assert labels.title == "Tus expresiones, los últimos 7 días" and labels.time_axis == "hora (Europe/Madrid)"
    assert labels.emotions["happy"] == "alegría" and labels.scale[2] == "luminoso"
    at = date2num(datetime(2026, 3, 5, 23, 30, tzinfo=timezone.utc))  # 00:30 on the 6th in Madrid
    assert date_formatter(ZoneInfo("Europe/Madrid"), labels.months_short, timedelta(days=20))(at) == "6 mar"
    assert date_formatter(ZoneInfo("Europe/Madrid"), labels.months_short, timedelta(hours=5))(at) == "00:30"
    assert date_formatter(ZoneInfo("UTC"), labels.months_short, timedelta(days=400))(at) == "mar 2026"
    assert render_chart(points("hsnah"), labels, ZoneInfo("Europe/Madrid"))[:4] == b"\x89PNG"


def test_history_period_and_summary() -> None:
    assert parse_period(None) == "30d" and parse_period([]) == "30d"
    assert parse_period(["7D"]) == "7d" and parse_period(["all"]) == "all"
    assert parse_period(["week"]) is None and parse_period(["7d", "30d"]) is None
    text = summary_text(DIALOGS, "last 7 days", points("hhsn"))
    assert text.startswith("Your moods, last 7 days (4 check-ins):")
    assert "Most often: 😊 happy 2" in text and "Trend:" in text and "not a diagnosis" in text
    assert summary_text(DIALOGS, "all time", points("s")).startswith("Your mood, all time (1 check-in):")


# -- reply texts --------------------------------------------------------------------------------------------


def face(probabilities: tuple[float, ...] | None, quality: str | None = None, size: int = 200) -> FaceResult:
    return FaceResult(Box(0, 0, size, size), probabilities, quality)


HAPPY = (0.02, 0.01, 0.02, 0.62, 0.03, 0.10, 0.20)


def test_reading_single_face() -> None:
    text = reading_text(DIALOGS, Analysis(640, 480, [face(HAPPY)]))
    assert text.startswith("Your expression looks mostly happy, 62%.")
    assert text.splitlines()[-3:] == ["😊 happy 62%", "😐 neutral 20%", "😮 surprise 10%"]
    unsure = reading_text(DIALOGS, Analysis(640, 480, [face((0.1, 0.1, 0.1, 0.3, 0.1, 0.1, 0.2))]))
    assert unsure.startswith(DIALOGS.text("uncertain"))


def test_reading_faces_that_cannot_be_read_and_no_face() -> None:
    assert reading_text(DIALOGS, Analysis(640, 480, [])) == DIALOGS.text("no_face")
    assert reading_text(DIALOGS, Analysis(640, 480, [face(None, "too_small")])) == DIALOGS.text("face_too_small")
    assert reading_text(DIALOGS, Analysis(640, 480, [face(None, "too_dark")])) == DIALOGS.text("reading.face_too_dark")
    both = Analysis(640, 480, [face(None, "too_dark"), face(None, "too_blurred")])
    assert reading_text(DIALOGS, both) == DIALOGS.text("reading.none_readable", count=2)


def test_reading_several_faces_numbered_largest_first() -> None:
    analysis = Analysis(640, 480, [face(None, "too_blurred", 300), face(HAPPY, size=200), face(HAPPY, size=100)])
    lines = reading_text(DIALOGS, analysis).splitlines()
    assert lines[0] == DIALOGS.text("reading.faces_header", count=3)
    assert lines[1] == "1. The face is too blurred to read its expression."
    assert lines[2] == "2. 😊 Looks mostly happy, 62% (😐 neutral 20%, 😮 surprise 10%)"
    assert lines[-1] == DIALOGS.text("reading.following", count=2)
    crowd = reading_text(DIALOGS, Analysis(640, 480, [face(HAPPY)] * 9))
    assert DIALOGS.text("reading.more_faces", count=3) in crowd and len(crowd) <= 1024


def test_small_formatters() -> None:
    assert percent(0.615) == "62%" and percent(1.2) == "100%"
    assert emotion_share(DIALOGS, "sad", 0.25) == "😢 sad 25%"
    assert clip("abcdef", 4) == "abc…" and clip("abc", 4) == "abc"


def test_mark_vote_ticks_the_pressed_button_only() -> None:
    row = [InlineKeyboardButton("1. 👍", callback_data="L1"), InlineKeyboardButton("1. 👎", callback_data="D1")]
    other = [InlineKeyboardButton("2. 👍", callback_data="L2"), InlineKeyboardButton("2. 👎", callback_data="D2")]
    markup = InlineKeyboardMarkup([row, other])
    liked = mark_vote(markup, "L1", 1, DIALOGS)
    assert [b.text for b in liked.inline_keyboard[0]] == ["1. 👍 ✓", "1. 👎"]
    assert [b.text for b in liked.inline_keyboard[1]] == ["2. 👍", "2. 👎"]
    switched = mark_vote(liked, "D1", -1, DIALOGS)
    assert [b.text for b in switched.inline_keyboard[0]] == ["1. 👍", "1. 👎 ✓"]
    assert mark_vote(switched, "D1", -1, DIALOGS) is None  # nothing to change
    assert mark_vote(None, "x", 1, DIALOGS) is None


def test_log_lines_never_show_the_token() -> None:
    token = "123456:ABCdefGHIjklMNOpqr"
    formatter = RedactingFormatter("%(message)s", [token])
    try:
        raise RuntimeError(f"POST https://api.telegram.org/bot{token}/getUpdates failed")
    except RuntimeError:
        record = logging.LogRecord("x", logging.ERROR, __file__, 1, "url %s", (f"/bot{token}/x",), True)
        import sys

        record.exc_info = sys.exc_info()
    line = formatter.format(record)
    assert token not in line and line.count("[redacted]") == 2


async def test_byte_budget_holds_downloads_until_bytes_are_free() -> None:
    budget = ByteBudget(10)
    order: list[str] = []

    async def hold(name: str, size: int, seconds: float) -> None:
        async with budget.reserve(size):
            order.append(f"+{name}")
            assert budget.reserved <= budget.limit
            await asyncio.sleep(seconds)
            order.append(f"-{name}")

    # 6 + 6 > 10: the second waits for the first; an oversized file takes the whole budget, never more.
    await asyncio.gather(hold("a", 6, 0.05), hold("b", 6, 0.0), hold("huge", 50, 0.0))
    assert order[:3] == ["+a", "-a", "+b"] and budget.reserved == 0


def test_updates_are_confirmed_only_up_to_the_oldest_unfinished() -> None:
    tracker = HandledTracker()
    assert tracker.offset() is None  # nothing fetched yet: ask for everything pending
    assert [tracker.start(u) for u in (10, 11, 12)] == [True] * 3
    tracker.finish(11)
    tracker.finish(12)
    assert tracker.offset() == 10  # 10 is still being handled: Telegram must keep 10, 11 and 12
    # Asked from 10 again, Telegram repeats 10-12: none of them is handled twice.
    assert [tracker.start(u) for u in (10, 11, 12, 13)] == [False, False, False, True]
    tracker.finish(10)
    assert tracker.offset() == 13
    tracker.finish(13)
    assert tracker.offset() == 14 and tracker.in_flight == set()


async def test_the_webhook_answers_once_handled_and_drains_on_stop() -> None:
    handled, release = [], asyncio.Event()

    class SlowApp:  # stands in for the Application: only process_update is used
        bot = None

        async def process_update(self, update: object) -> None:
            await release.wait()
            handled.append(update)

    server = WebhookServer(SlowApp(), "/hook", "s3cret")  # type: ignore[arg-type]
    await server.start("127.0.0.1", 0)
    base = f"http://127.0.0.1:{server.port}"
    update = {"update_id": 1, "message": {"message_id": 1, "date": 0, "chat": {"id": 5, "type": "private"}}}
    headers = {"X-Telegram-Bot-Api-Secret-Token": "s3cret"}
    async with aiohttp.ClientSession() as http:
        async with http.post(f"{base}/hook", json=update) as resp:
            assert resp.status == 403  # no secret
        first = asyncio.create_task(http.post(f"{base}/hook", json=update, headers=headers))
        await asyncio.sleep(0.2)
        assert not first.done() and len(server.in_hand) == 1  # no answer before the handlers finish
        stopping = asyncio.create_task(server.stop())
        await asyncio.sleep(0.1)
        async with http.get(f"{base}/healthz") as resp:
            assert resp.status == 503  # the proxy stops sending here
        async with http.post(f"{base}/hook", json=update, headers=headers) as resp:
            assert resp.status == 503  # Telegram will resend it
        release.set()
        assert (await first).status == 200
        await stopping
    assert len(handled) == 1
