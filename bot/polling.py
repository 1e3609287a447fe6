"""Long polling that confirms an update only once it has been handled.

Telegram forgets an update when ``getUpdates`` is next called with a higher ``offset``.  PTB's own
poller moves the offset as soon as updates are *fetched*, so a bot killed while reading a photo
loses it: the person never gets an answer.  This poller keeps the offset at the oldest update still
being handled, so after a crash the restarted bot is given every unfinished update again (handlers
are idempotent where it matters: a check-in is keyed by its message, see ``Store.add_checkin``).

While updates are in flight the poller asks without waiting (Telegram would hand back the unfinished
ones at once) and pauses ``BUSY_POLL_INTERVAL`` between asks; when nothing is in flight it long-polls.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from typing import Any

from telegram import Update
from telegram.error import Conflict, InvalidToken, NetworkError, RetryAfter
from telegram.ext import Application

log = logging.getLogger(__name__)

#: Pause between polls while updates are being handled (bounds the extra latency of a new update).
BUSY_POLL_INTERVAL = 0.2
#: Pauses after failed polls, growing to the last one.
POLL_ERROR_DELAYS = (0.5, 1.0, 2.0, 5.0)


class HandledTracker:
    """Which fetched updates are still being handled, and so which offset is safe to confirm."""

    def __init__(self) -> None:
        self.in_flight: set[int] = set()
        self._done: set[int] = set()  # handled, but not confirmed to Telegram yet
        self._next: int | None = None  # one past the newest update ever fetched

    def start(self, update_id: int) -> bool:
        """Record a fetched update; False if it is already being handled or was handled (a redelivery)."""
        if update_id in self.in_flight or update_id in self._done:
            return False
        self.in_flight.add(update_id)
        self._next = max(self._next or 0, update_id + 1)
        return True

    def finish(self, update_id: int) -> None:
        """The update's handlers are done (successfully or not: errors are answered by the error handler)."""
        if update_id in self.in_flight:
            self.in_flight.discard(update_id)
            self._done.add(update_id)

    def offset(self) -> int | None:
        """What to pass to getUpdates: everything below it is handled and may be forgotten by Telegram."""
        offset = min(self.in_flight) if self.in_flight else self._next
        if offset is not None:
            self._done = {u for u in self._done if u >= offset}
        return offset


async def _poll(app: Application, tracker: HandledTracker, timeout: int) -> None:
    failures = 0
    while True:
        busy = bool(tracker.in_flight)
        try:
            updates = await app.bot.get_updates(
                offset=tracker.offset(),
                timeout=0 if busy else timeout,
                allowed_updates=Update.ALL_TYPES,
            )
        except RetryAfter as exc:
            await asyncio.sleep(float(exc.retry_after if isinstance(exc.retry_after, (int, float)) else 1))
            continue
        except (Conflict, InvalidToken):
            raise  # another bot polls, or the token is wrong: nothing to wait out
        except NetworkError as exc:  # TimedOut, 5xx, connection errors
            delay = POLL_ERROR_DELAYS[min(failures, len(POLL_ERROR_DELAYS) - 1)]
            failures += 1
            log.warning("getUpdates failed (%s); trying again in %.1f s", exc, delay)
            await asyncio.sleep(delay)
            continue
        failures = 0
        fresh = [u for u in updates if tracker.start(u.update_id)]
        for update in fresh:
            await app.update_queue.put(update)
        if busy and not fresh:
            await asyncio.sleep(BUSY_POLL_INTERVAL)


class TrackingApplication(Application):
    """An Application that polls with ``start_confirmed_polling`` and confirms updates once handled."""

    tracker: HandledTracker | None = None
    _poller: asyncio.Task | None = None
    #: In webhook mode, the bot's own webhook server (bot.webhook_server), stopped with the app.
    webhook_server: Any = None

    async def process_update(self, update: object) -> None:
        """Handle as PTB does, then mark the update finished (also after an error or cancellation)."""
        try:
            await super().process_update(update)
        finally:
            if self.tracker is not None and isinstance(update, Update):
                self.tracker.finish(update.update_id)

    async def start_confirmed_polling(self, timeout: int) -> None:
        """Begin polling (after ``start()``); errors deleting a webhook are raised here, later ones logged."""
        await self.bot.delete_webhook()  # getUpdates is refused while a webhook is set
        self.tracker = HandledTracker()
        self._poller = asyncio.create_task(_poll(self, self.tracker, timeout), name="moodlens-polling")
        self._poller.add_done_callback(_report_end)

    @property
    def polling(self) -> bool:
        """Whether the poller runs."""
        return self._poller is not None and not self._poller.done()

    async def stop_confirmed_polling(self) -> None:
        """Stop polling; updates still being handled stay unconfirmed, so a restart gets them again."""
        if self._poller is None:
            return
        self._poller.cancel()
        with contextlib.suppress(asyncio.CancelledError, Exception):  # its end was logged already
            await self._poller
        self._poller = None
        if self.tracker is not None and self.tracker.in_flight:
            log.info("%d update(s) still being handled stay unconfirmed", len(self.tracker.in_flight))


def _report_end(task: asyncio.Task) -> None:
    if not task.cancelled() and task.exception() is not None:
        log.error("polling stopped: %s", task.exception())
