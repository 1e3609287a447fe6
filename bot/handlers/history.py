"""/history [7d|30d|all]: how many check-ins, the dominant expressions, a trend in words, and a chart."""

from __future__ import annotations

import asyncio
import logging
from datetime import datetime, timedelta, timezone

from telegram import Update
from telegram.constants import ChatAction
from telegram.ext import ContextTypes

from bot.handlers.guards import admit_or_explain, show_chat_action
from bot.history_chart import MoodPoint, dominant, points_from_checkins, render_chart, trend_words
from bot.replies import MAX_CAPTION, emoji
from bot.services import services_of
from dialogs import Dialogs

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
    top = " · ".join(f"{emoji(dialogs, e)} {e} {n}" for e, n in dominant(points))
    lines = [
        dialogs.text(
            "history_header_one" if len(points) == 1 else "history_header", period=period_label, count=len(points)
        ),
        dialogs.text("history_most_often", label=top),
        trend_words(points),
        dialogs.text("history_disclaimer"),
    ]
    return "\n".join(lines)


async def on_history(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Reply with the summary and a PNG chart of the period."""
    services = services_of(context)
    message, user, chat = update.effective_message, update.effective_user, update.effective_chat
    assert message is not None and user is not None and chat is not None
    dialogs = services.dialogs
    key = parse_period(context.args)
    if key is None:
        await message.reply_text(dialogs.text("history_usage"))
        return
    period = PERIODS[key]
    since = datetime.now(timezone.utc) - period if period is not None else None
    checkins = await services.store.checkins(user.id, since=since)
    label = dialogs.text(f"history_periods.{key}")
    if not checkins:
        await message.reply_text(dialogs.text("history_empty", period=label))
        return
    ticket = await admit_or_explain(services.chart_limiter, user.id, message, dialogs, "history_rate_limited")
    if ticket is None:
        return
    await show_chat_action(chat, ChatAction.UPLOAD_PHOTO)
    points = points_from_checkins(checkins)
    text = summary_text(dialogs, label, points)
    async with ticket:
        png = await asyncio.to_thread(render_chart, points, f"Your expressions, {label}")
    if len(text) <= MAX_CAPTION:
        await message.reply_photo(png, caption=text)
    else:  # not with today's texts, but a caption over the limit would be rejected
        await message.reply_text(text)
        await message.reply_photo(png)
