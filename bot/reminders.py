"""Daily check-in reminders at a person's local time: the setting in the person's row, the schedule in due_jobs.

The setting ("reminder": {"at": "HH:MM", "window_minutes": n}) is the truth; each person's next fire time (UTC) is
a row of storage.jobs, written after every change of the setting or zone and after each reminder, so any worker
sees it, and the tick of any worker (PTB's JobQueue calls ``run_due``) sends it once, also when the worker that
scheduled it is gone (storage.jobs explains the crash windows). Each next time is computed from the local date and
``zoneinfo``, never by adding 24 hours, so it stays at the same wall-clock time across DST changes. A day the
person already checked in is skipped; a person who blocked the bot has the reminder turned off (quietly).
The clock is ``Services.clock``: tests move it and call ``run_due`` instead of waiting.
"""

from __future__ import annotations

import hashlib
import logging
import re
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, timezone
from typing import Any
from zoneinfo import ZoneInfo

from telegram import Bot
from telegram.error import Forbidden, TelegramError

from bot import keyboards
from bot.due_jobs import Outcome, run_due
from bot.languages import language_of
from bot.services import Services
from bot.time_zones import local_day_start, zone_of
from dialogs import Dialogs
from storage.jobs import DueJobs, Job

log = logging.getLogger(__name__)

#: The settings key (see the settings contract): {"at": "HH:MM", "window_minutes": int}; absent = off.
SETTING = "reminder"
#: The due_jobs kind of daily reminders.
KIND = "reminder"
#: How often the JobQueue checks for due reminders (a reminder is at most this late).
TICK = timedelta(seconds=30)
#: A reminder found later than this (no worker ran at the time) is skipped: a nudge hours late is just noise.
MAX_LATE = timedelta(hours=2)
#: The longest random window (the buttons offer 3 hours; a day would blur into the next).
MAX_WINDOW = 12 * 60
_TIME_RE = re.compile(r"^([01]?\d|2[0-3])[:.h]([0-5]\d)$")


@dataclass(frozen=True)
class Reminder:
    """A daily reminder: the local minute of the day it starts at and the random window after it (0 = exact)."""

    minute: int
    window: int = 0

    def as_setting(self) -> dict[str, Any]:
        """The settings value of this reminder."""
        return {"at": f"{self.minute // 60:02d}:{self.minute % 60:02d}", "window_minutes": self.window}


def parse_time(text: str) -> int | None:
    """A typed local time ("21:30", "9:05", "7.30", "21h00") as a minute of the day; None if it is not one."""
    match = _TIME_RE.match((text or "").strip().lower())
    return int(match.group(1)) * 60 + int(match.group(2)) if match else None


def reminder_of(settings: dict[str, Any]) -> Reminder | None:
    """The person's reminder from their settings; None when off or unreadable."""
    value = settings.get(SETTING)
    if not isinstance(value, dict):
        return None
    minute = parse_time(str(value.get("at", "")))
    window = value.get("window_minutes", 0)
    if minute is None or not isinstance(window, int) or not 0 <= window <= MAX_WINDOW:
        return None
    return Reminder(minute, window)


def fire_time(reminder: Reminder, day: date, zone: ZoneInfo, user_id: int) -> datetime:
    """When the reminder fires on local ``day`` (UTC).

    A wall-clock time that does not exist that day (inside a spring-forward gap) fires just after the gap; one
    that exists twice (fall back) fires the first time. The random offset is fixed per person and day, so a
    restart does not roll it again.
    """
    local = datetime.combine(day, time(reminder.minute // 60, reminder.minute % 60), tzinfo=zone)
    start = local.astimezone(timezone.utc)
    if reminder.window:
        digest = hashlib.sha256(f"{user_id}:{day.isoformat()}".encode()).digest()
        start += timedelta(minutes=int.from_bytes(digest[:4], "big") % reminder.window)
    return start


def next_fire(reminder: Reminder, zone: ZoneInfo, user_id: int, after: datetime) -> datetime:
    """The first fire time strictly after ``after`` (UTC)."""
    day = after.astimezone(zone).date() - timedelta(days=1)  # a window may reach past midnight into today
    while (at := fire_time(reminder, day, zone, user_id)) <= after:
        day += timedelta(days=1)
    return at


class ReminderScheduler:
    """Everyone's next reminder (rows of storage.jobs, shared by every worker) and the sending of due ones."""

    def __init__(self, services: Services) -> None:
        self._services = services
        self._jobs = DueJobs(services.store.database)

    async def scheduled(self) -> dict[int, datetime]:
        """Person -> next fire time (UTC), as every worker sees it."""
        return await self._jobs.scheduled(KIND)

    async def rebuild(self) -> int:
        """At start-up: schedule everyone whose reminder has no row yet (a row already there stays, so one that
        fell due while no worker ran is still sent, if not too late); returns how many people have a reminder."""
        people = await self._services.store.people_with_setting(SETTING)
        now = self._services.clock()
        due = {}
        for user_id, settings in people.items():
            at = self._next(user_id, settings, now)
            if at is not None:
                due[user_id] = at
        added = await self._jobs.schedule_missing(KIND, due)
        log.info("%d daily reminders (%d newly scheduled)", len(due), added)
        return len(due)

    async def refresh(self, user_id: int) -> None:
        """Reschedule one person after their reminder or time zone changed (or drop them when it is off)."""
        settings = await self._services.store.settings(user_id)
        await self._jobs.schedule(KIND, user_id, self._next(user_id, settings, self._services.clock()))

    @staticmethod
    def _next(user_id: int, settings: dict[str, Any], now: datetime) -> datetime | None:
        reminder = reminder_of(settings)
        return None if reminder is None else next_fire(reminder, zone_of(settings), user_id, now)

    async def run_due(self, bot: Bot) -> list[int]:
        """Send every reminder due by now (skipping people who checked in that day); returns who got one."""

        async def handle(job: Job, now: datetime) -> Outcome:
            return await self._remind(bot, job, now)

        return await run_due(self._jobs, KIND, self._services.clock(), handle)

    async def _remind(self, bot: Bot, job: Job, now: datetime) -> Outcome:
        store = self._services.store
        user_id = job.user_id
        settings = await store.settings(user_id)
        next_due = self._next(user_id, settings, now)
        if next_due is None:
            return Outcome(sent=False, next_due=None)
        if now - job.due_at > MAX_LATE:
            log.info("reminder skipped: due %s ago, while no worker ran", now - job.due_at)
            return Outcome(sent=False, next_due=next_due)
        zone = zone_of(settings)
        day_start = local_day_start(job.due_at.astimezone(zone).date(), zone)
        if await store.checkins(user_id, since=day_start):
            log.info("reminder skipped: already checked in today")
            return Outcome(sent=False, next_due=next_due)
        dialogs = self._dialogs(settings)
        text = dialogs.text("settings.remind.text", rng=self._services.rng)
        markup = keyboards.quick_checkin(self._services.codec, dialogs, user_id)  # say how you feel, no selfie needed
        try:
            await bot.send_message(user_id, text, reply_markup=markup)
        except Forbidden:
            await store.update_settings(user_id, **{SETTING: None})
            log.info("reminder turned off: the person has blocked the bot")
            return Outcome(sent=False, next_due=None)
        except TelegramError as exc:  # tomorrow's comes anyway
            log.warning("could not send a reminder: %s", exc)
            return Outcome(sent=False, next_due=next_due)
        return Outcome(sent=True, next_due=next_due)

    def _dialogs(self, settings: dict[str, Any]) -> Dialogs:
        """The person's chosen language (no update here, so no Telegram language_code to follow): else English."""
        texts = self._services.texts
        return texts.for_language(language_of(settings, None)) if texts is not None else self._services.dialogs
