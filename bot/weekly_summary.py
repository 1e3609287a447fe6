"""The weekly summary, opt-in ("weekly_summary" = weekday 0-6 in the settings): on that local day, from SEND_AT
local time, one message about the person's last seven days: check-ins, dominant expressions, trend and streaks.

Each person's next summary is a row of storage.jobs (due at SEND_AT on their next chosen local day that has not had
its summary, ``SENT`` = that local date, in the settings), written when the day or zone changes and after each
summary; every worker's tick adds the rows of people who have none yet, claims the due ones (each is sent once,
by whichever worker claims it: storage.jobs explains the crash windows) and checks again, against the settings
and the clock, that the summary is due on the local day the row was for: a daylight-saving change cannot move it
to another day, and a day no worker ran through is not sent the day after.
The clock is ``Services.clock``: tests move it and call ``send_due`` instead of waiting.
"""

from __future__ import annotations

import logging
from datetime import date, datetime, time, timedelta, timezone
from typing import Any

from telegram import Bot
from telegram.error import Forbidden, TelegramError

from bot.due_jobs import Outcome, run_due
from bot.handlers.history import summary_text
from bot.history_calendar import day_buckets, local_day, streaks
from bot.history_chart import points_from_checkins
from bot.services import Services
from bot.time_zones import days_ago_start, zone_of
from dialogs import Dialogs
from storage import CheckIn
from storage.jobs import DueJobs, Job

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

#: The due_jobs kind of weekly summaries.
KIND = "weekly_summary"


def due_day(settings: dict[str, Any], now: datetime) -> date | None:
    """The local date whose summary is due now, or None (off, another weekday, before SEND_AT, or sent)."""
    weekday = _weekday(settings)
    if weekday is None:
        return None
    local = now.astimezone(zone_of(settings))
    if local.weekday() != weekday or local.time() < SEND_AT or settings.get(SENT) == local.date().isoformat():
        return None
    return local.date()


def next_due(settings: dict[str, Any], now: datetime) -> datetime | None:
    """When the next summary is due (UTC): SEND_AT on the first chosen local day from today on that has not had
    its summary (today's, if sent yet, counts from SEND_AT on, so it may be in the past); None when off."""
    weekday = _weekday(settings)
    if weekday is None:
        return None
    zone = zone_of(settings)
    today = now.astimezone(zone).date()
    day = today + timedelta(days=(weekday - today.weekday()) % 7)
    if settings.get(SENT) == day.isoformat():
        day += timedelta(days=7)
    return datetime.combine(day, SEND_AT, tzinfo=zone).astimezone(timezone.utc)


def _weekday(settings: dict[str, Any]) -> int | None:
    weekday = settings.get(SETTING)
    if not isinstance(weekday, int) or isinstance(weekday, bool) or not 0 <= weekday <= 6:
        return None
    return weekday


async def refresh(services: Services, user_id: int) -> None:
    """Reschedule one person after their summary's day or their time zone changed (or drop them when it is off)."""
    settings = await services.store.settings(user_id)
    await DueJobs(services.store.database).schedule(KIND, user_id, next_due(settings, services.clock()))


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
    jobs = DueJobs(services.store.database)
    now = services.clock()
    # People who chose a day without a row yet (an older database, a setting written elsewhere); rows stay as they
    # are, so this neither moves nor repeats a summary.
    people = await services.store.people_with_setting(SETTING)
    due = {user_id: at for user_id, settings in people.items() if (at := next_due(settings, now)) is not None}
    await jobs.schedule_missing(KIND, due)

    async def handle(job: Job, at: datetime) -> Outcome:
        return await _send(services, bot, job, at)

    return await run_due(jobs, KIND, now, handle)


async def _send(services: Services, bot: Bot, job: Job, now: datetime) -> Outcome:
    store = services.store
    settings = await store.settings(job.user_id)
    day = due_day(settings, now)
    if day is None or day != job.due_at.astimezone(zone_of(settings)).date():
        return Outcome(sent=False, next_due=next_due(settings, now))  # changed meanwhile, or the day went by
    everything = await store.checkins(job.user_id)
    since = days_ago_start(now, zone_of(settings), DAYS)
    week = [c for c in everything if c.at >= since]
    text = week_text(services.dialogs_in(settings), week, everything, settings, now)
    try:
        await bot.send_message(job.user_id, text)
    except Forbidden:
        await store.update_settings(job.user_id, **{SETTING: None, SENT: None})
        log.info("weekly summary turned off: the person has blocked the bot")
        return Outcome(sent=False, next_due=None)
    except TelegramError as exc:  # next week's comes anyway
        log.warning("could not send a weekly summary: %s", exc)
        sent = False
    else:
        sent = True
    settings = await store.update_settings(job.user_id, **{SENT: day.isoformat()})
    return Outcome(sent=sent, next_due=next_due(settings, now))
