"""/history [7d|30d|all]: how many check-ins, the dominant expressions, a trend in words, and a chart."""

from __future__ import annotations

import asyncio
import logging
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from telegram import Update
from telegram.constants import ChatAction
from telegram.ext import ContextTypes

from bot.handlers.guards import admit_or_explain, show_chat_action
from bot.history_calendar import (
    MIN_WEEKDAY_CHECKINS,
    CalendarLabels,
    Streaks,
    day_buckets,
    dominant_by_day,
    local_day,
    plain,
    render_calendar,
    streaks,
    weekday_leanings,
    year_start,
)
from bot.history_chart import (
    MIN_FOR_TREND,
    ChartLabels,
    MoodPoint,
    dominant,
    points_from_checkins,
    render_chart,
    trend,
)
from bot.replies import MAX_CAPTION, clip, emoji, emotion_word, percent
from bot.services import services_of
from bot.time_zones import days_ago_start, zone_of
from catalog import EMOTIONS
from dialogs import Dialogs
from dialogs.keys import MONTH_KEYS, WEEKDAY_KEYS
from storage import CheckIn

log = logging.getLogger(__name__)

PERIODS: dict[str, timedelta | None] = {"7d": timedelta(days=7), "30d": timedelta(days=30), "all": None}
DEFAULT_PERIOD = "30d"


def parse_period(args: list[str] | None) -> str | None:
    """The period key from the command's arguments ("30d" when none), or None when it is not understood."""
    if not args:
        return DEFAULT_PERIOD
    if len(args) != 1:
        return None
    key = args[0].strip().lower()
    return key if key in PERIODS else None


def summary_text(dialogs: Dialogs, period_label: str, points: list[MoodPoint]) -> str:
    """Header with the count, the dominant expressions and the trend sentence."""
    top = " · ".join(f"{_badge(dialogs, e)} {n}" for e, n in dominant(points))
    lines = [
        dialogs.text(
            "history_header_one" if len(points) == 1 else "history_header", period=period_label, count=len(points)
        ),
        dialogs.text("history_most_often", label=top),
        trend_text(dialogs, points),
        dialogs.text("history_disclaimer"),
    ]
    return "\n".join(lines)


def trend_text(dialogs: Dialogs, points: list[MoodPoint]) -> str:
    """The trend sentence: which way the second half of the period went, with the shares behind it."""
    found = trend(points)
    if found is None:
        return dialogs.text("history.trend_too_few", count=MIN_FOR_TREND)
    return dialogs.text(
        f"history.trend.{found.direction}",
        positive_before=percent(found.positive_before),
        positive_after=percent(found.positive_after),
        negative_before=percent(found.negative_before),
        negative_after=percent(found.negative_after),
    )


def emotion_name(dialogs: Dialogs, emotion: str) -> str:
    """An emotion's display label; an emotion without one (e.g. a self-reported "mixed") gets the neutral name."""
    flow = dialogs.emotions.get(emotion)
    return flow.label if flow is not None else dialogs.text("history.other_emotion")


def _badge(dialogs: Dialogs, emotion: str) -> str:
    """ "😊 happy" in the dialogs' language; the neutral name for a mood without words of its own."""
    if emotion not in dialogs.emotions:
        return emotion_name(dialogs, emotion)
    return f"{emoji(dialogs, emotion)} {emotion_word(dialogs, emotion)}"


def days_text(dialogs: Dialogs, streak: Streaks, weekdays: list[tuple[int, str | None]]) -> str:
    """The calendar's caption: the streaks, then which way each weekday with enough check-ins leans."""
    lines = [dialogs.text("history.streaks", current=streak.current, longest=streak.longest)]
    leanings = [(weekday, emotion) for weekday, emotion in weekdays if emotion is not None]
    if leanings:
        parts = [
            dialogs.text(
                "history.weekday_leaning",
                weekday=dialogs.text(f"history.weekdays_many.{WEEKDAY_KEYS[weekday]}"),
                emotion=emotion_name(dialogs, emotion),
            )
            for weekday, emotion in leanings
        ]
        lines.append(dialogs.text("history.weekdays", leanings=", ".join(parts)))
    elif weekdays:  # enough check-ins, but every weekday is a mix
        lines.append(dialogs.text("history.weekdays_even"))
    else:
        lines.append(dialogs.text("history.weekdays_too_few", count=MIN_WEEKDAY_CHECKINS))
    return "\n".join(lines)


def calendar_labels(dialogs: Dialogs, period_label: str, emotions: set[str]) -> CalendarLabels:
    """The words of the calendar picture in the person's language (read here, on the event loop, not in the thread)."""
    return CalendarLabels(
        title=dialogs.text("history.calendar_title", period=period_label),
        months=[dialogs.text(f"history.months.{key}") for key in MONTH_KEYS],
        months_short=[dialogs.text(f"history.months_short.{key}") for key in MONTH_KEYS],
        weekdays_short=[dialogs.text(f"history.weekdays_short.{key}") for key in WEEKDAY_KEYS],
        emotions={e: plain(emotion_name(dialogs, e)) for e in (*EMOTIONS, *emotions)},
        other=dialogs.text("history.other_emotion"),
        no_checkin=dialogs.text("history.no_checkin"),
    )


def chart_labels(dialogs: Dialogs, period_label: str, zone: ZoneInfo) -> ChartLabels:
    """The words of the mood chart in the person's language."""
    return ChartLabels(
        title=dialogs.text("history.chart_title", period=period_label),
        scale=(
            dialogs.text("history.chart_low"),
            dialogs.text("history.chart_neutral"),
            dialogs.text("history.chart_bright"),
        ),
        time_axis=dialogs.text("history.chart_time", zone=str(zone)),
        average=dialogs.text("history.chart_average"),
        emotions={e: emotion_word(dialogs, e) for e in dialogs.emotions},
        months_short=[dialogs.text(f"history.months_short.{key}") for key in MONTH_KEYS],
    )


def _moments(checkins: list[CheckIn]) -> list[tuple[datetime, str]]:
    """(time, emotion as the person said): a correction or a self-report counts over the model's reading."""
    return [(c.at, c.effective_emotion) for c in checkins]


async def on_history(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Reply with the summary and a PNG chart of the period."""
    services = services_of(context)
    message, user, chat = update.effective_message, update.effective_user, update.effective_chat
    assert message is not None and user is not None and chat is not None
    dialogs = await services.dialogs_for(user)
    key = parse_period(context.args)
    if key is None:
        await message.reply_text(dialogs.text("history_usage"))
        return
    period = PERIODS[key]
    now = services.clock()  # "today" and the period, in the person's zone; tests move this clock
    zone = zone_of(await services.store.settings(user.id))
    # "The last 7 days" are today and the six days before it, counted in the person's zone.
    since = days_ago_start(now, zone, period.days) if period is not None else None
    everything = await services.store.checkins(user.id)  # streaks run past the period's start
    checkins = [c for c in everything if since is None or c.at >= since]
    label = dialogs.text(f"history_periods.{key}")
    if not checkins:
        await message.reply_text(dialogs.text("history_empty", period=label))
        return
    points = points_from_checkins(checkins)
    text = summary_text(dialogs, label, points)
    today = local_day(now, zone)
    days = dominant_by_day(day_buckets(_moments(checkins), zone))
    first = year_start(today) if since is None else local_day(since, zone)  # the same days as the summary
    streak = streaks(day_buckets(_moments(everything), zone), today)
    caption = clip(days_text(dialogs, streak, weekday_leanings(_moments(checkins), zone)), MAX_CAPTION)
    labels = calendar_labels(dialogs, label, set(days.values()))
    # Admitted only now, right before the slot is taken: an admitted ticket holds the person's place in line.
    ticket = await admit_or_explain(services.chart_limiter, user.id, message, dialogs, "history_rate_limited")
    if ticket is None:
        return
    await show_chat_action(chat, ChatAction.UPLOAD_PHOTO)
    async with ticket:
        png = await asyncio.to_thread(render_chart, points, chart_labels(dialogs, label, zone), zone)
        calendar = await asyncio.to_thread(render_calendar, days, first, today, labels, year_view=period is None)
    if len(text) <= MAX_CAPTION:
        await message.reply_photo(png, caption=text)
    else:  # not with today's texts, but a caption over the limit would be rejected
        await message.reply_text(text)
        await message.reply_photo(png)
    await message.reply_photo(calendar, caption=caption)
