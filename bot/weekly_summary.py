"""The weekly summary, opt-in ("weekly_summary" = weekday 0-6 in the settings): on that local day, from SEND_AT
local time, one message about the person's last seven days: check-ins, dominant expressions, trend and streaks.

Nothing is scheduled in memory: every tick looks at the people who opted in, and whoever is past SEND_AT on their
day, in their zone, and has not had that day's summary yet (``SENT`` = that local date, in the settings) gets it.
So a restart neither loses nor repeats one, and a daylight-saving change cannot move it to another day.
The clock is ``Services.clock``: tests move it and call ``send_due`` instead of waiting.
"""

from __future__ import annotations

import asyncio
import logging
from datetime import date, datetime, time, timedelta
from typing import Any

from telegram import Bot
from telegram.error import Forbidden, TelegramError

from bot.handlers.history import summary_text
from bot.history_calendar import day_buckets, local_day, streaks
from bot.history_chart import points_from_checkins
from bot.services import Services
from bot.time_zones import days_ago_start, zone_of
from dialogs import Dialogs
from storage import CheckIn

log = logging.getLogger(__name__)

#: The settings key (see the settings contract): the weekday it arrives on, 0 = Monday; absent = off.
SETTING = "weekly_summary"
#: The local date of the last summary sent (so neither a second tick nor a restart sends it twice).
SENT = "weekly_summary_sent"
#: The local time of day the summary arrives from: evening, when the day's check-ins are in.
SEND_AT = time(18, 0)
#: How often the JobQueue looks for due summaries (a summary is at most this late).
TICK = timedelta(minutes=1)
#: The summary covers the last this-many local days, today included.
DAYS = 7

_LOCK = asyncio.Lock()  # the JobQueue's tick and a test's send_due never send one summary twice


def due_day(settings: dict[str, Any], now: datetime) -> date | None:
    """The local date whose summary is due now, or None (off, another weekday, before SEND_AT, or sent)."""
    weekday = settings.get(SETTING)
    if not isinstance(weekday, int) or isinstance(weekday, bool) or not 0 <= weekday <= 6:
        return None
    local = now.astimezone(zone_of(settings))
    if local.weekday() != weekday or local.time() < SEND_AT or settings.get(SENT) == local.date().isoformat():
        return None
    return local.date()


def week_text(
    dialogs: Dialogs, checkins: list[CheckIn], everything: list[CheckIn], settings: dict, now: datetime
) -> str:
    """The summary: an opening line, then /history's summary of the week and the streaks (or a nudge if empty)."""
    if not checkins:
        return dialogs.text("history.weekly_empty")
    zone = zone_of(settings)
    streak = streaks(day_buckets([(c.at, c.effective_emotion) for c in everything], zone), local_day(now, zone))
    label = dialogs.text("history_periods.7d")
    return "\n\n".join(
        [
            dialogs.text("history.weekly_intro"),
            summary_text(dialogs, label, points_from_checkins(checkins)),
            dialogs.text("history.streaks", current=streak.current, longest=streak.longest),
        ]
    )


async def send_due(services: Services, bot: Bot) -> list[int]:
    """Send every summary due by now; returns who got one."""
    async with _LOCK:
        now = services.clock()
        sent = []
        for user_id, settings in (await services.store.people_with_setting(SETTING)).items():
            day = due_day(settings, now)
            if day is not None and await _send(services, bot, user_id, settings, day, now):
                sent.append(user_id)
        return sent


async def _send(services: Services, bot: Bot, user_id: int, settings: dict[str, Any], day: date, now: datetime) -> bool:
    store = services.store
    await store.update_settings(user_id, **{SENT: day.isoformat()})  # first: a failure below must not repeat it
    everything = await store.checkins(user_id)
    since = days_ago_start(now, zone_of(settings), DAYS)
    week = [c for c in everything if c.at >= since]
    text = week_text(services.dialogs_in(settings), week, everything, settings, now)
    try:
        await bot.send_message(user_id, text)
    except Forbidden:
        await store.update_settings(user_id, **{SETTING: None, SENT: None})
        log.info("weekly summary turned off: the person has blocked the bot")
        return False
    except TelegramError as exc:  # next week's comes anyway
        log.warning("could not send a weekly summary: %s", exc)
        return False
    return True
