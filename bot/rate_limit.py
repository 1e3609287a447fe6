"""Per-person limits: N requests per minute, and at most K of them being worked on at once, across every worker.

Requests over the per-minute quota are refused (with a friendly message, itself throttled); photos within the
quota but over the in-flight limit wait for the person's own earlier photos, so one person's burst holds at most
K recognition workers and everyone else keeps being served.  The counts live in the database
(:mod:`storage.limits`), so a person's consecutive updates count the same on whichever worker they land; a slot
held by a worker that died is free again once its lease runs out.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable
from datetime import datetime, timedelta
from types import TracebackType

from storage.limits import WINDOW, RateLimits, Refusal
from storage.store import utc_now

log = logging.getLogger(__name__)

#: An in-flight request's slot is held this long without word from its worker (its worker renews it meanwhile).
LEASE = timedelta(seconds=30)
#: How often a waiting request looks again whether its turn came (sooner when one of this worker's ends).
POLL_S = (0.02, 0.25)


class RateLimited(Exception):
    """Refused: try again in ``retry_after`` seconds; ``notify`` is False when the person was told recently."""

    def __init__(self, retry_after: float, notify: bool) -> None:
        super().__init__(f"rate limited, retry after {retry_after:.0f}s")
        self.retry_after = retry_after
        self.notify = notify


class RateLimiter:
    """Admission control for one kind of request (``bucket``: photos, charts…) per person."""

    def __init__(
        self,
        limits: RateLimits,
        bucket: str,
        per_minute: int,
        in_flight: int,
        *,
        notice_interval: float = 10.0,
        clock: Callable[[], datetime] = utc_now,
    ) -> None:
        if per_minute < 1 or in_flight < 1:
            raise ValueError("per_minute and in_flight must be >= 1")
        self.limits = limits
        self.bucket = bucket
        self.per_minute = per_minute
        self.in_flight = in_flight
        self.notice_interval = timedelta(seconds=notice_interval)
        self.clock = clock
        self._ended = asyncio.Event()  # set (and replaced) whenever one of this process's tickets ends
        self._pruned: datetime | None = None

    async def admit(self, user_id: int) -> Ticket:
        """Count one request against the quota and return a ticket; raise RateLimited when over it."""
        admission = await self._admit(user_id, LEASE)
        return Ticket(self, user_id, admission)

    async def count(self, user_id: int) -> None:
        """Count one request that nothing waits on (a button press); raise RateLimited when over the quota."""
        await self._admit(user_id, None)

    async def _admit(self, user_id: int, lease: timedelta | None) -> int:
        now = self.clock()
        await self._prune(now)
        result = await self.limits.admit(
            self.bucket,
            user_id,
            now=now,
            per_minute=self.per_minute,
            notice_interval=self.notice_interval,
            lease=lease,
        )
        if isinstance(result, Refusal):
            raise RateLimited(result.retry_after, result.notify)
        return result

    async def _prune(self, now: datetime) -> None:
        # Everyone's rows older than the window go (the person's own go at each admission): at most once a window
        # per worker, so the table stays as small as the last minute's traffic without a sweep per request.
        if self._pruned is None or now - self._pruned >= WINDOW:
            self._pruned = now
            await self.limits.prune(now)

    async def active(self, user_id: int) -> int:
        """The person's tickets admitted and not finished yet, on every worker."""
        return await self.limits.in_flight(self.bucket, user_id, self.clock())

    def _ticket_ended(self) -> None:
        self._ended.set()
        self._ended = asyncio.Event()


class Ticket:
    """An admitted request: ``async with ticket:`` waits for one of the person's in-flight slots."""

    def __init__(self, limiter: RateLimiter, user_id: int, admission: int) -> None:
        self._limiter = limiter
        self._user_id = user_id
        self.admission = admission
        self._renewing: asyncio.Task[None] | None = None
        self._done = False

    async def __aenter__(self) -> Ticket:
        limiter = self._limiter
        self._renewing = asyncio.create_task(self._renew())
        delay = POLL_S[0]
        try:
            while not await limiter.limits.in_turn(
                self.admission, limiter.bucket, self._user_id, now=limiter.clock(), in_flight=limiter.in_flight
            ):
                with contextlib.suppress(asyncio.TimeoutError):
                    await asyncio.wait_for(limiter._ended.wait(), delay)
                delay = min(delay * 2, POLL_S[1])
        except BaseException:
            await self.aclose()
            raise
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self.aclose()

    async def _renew(self) -> None:
        # The lease says "this worker is alive and still on it"; a dead worker's slots free themselves.
        while True:
            await asyncio.sleep(LEASE.total_seconds() / 3)
            try:
                await self._limiter.limits.renew(self.admission, self._limiter.clock() + LEASE)
            except Exception as exc:  # the next renewal may get through; the lease has time left
                log.warning("could not renew a rate-limit lease: %s", exc)

    async def aclose(self) -> None:
        """Give the slot back (idempotent); for tickets that are never entered too."""
        if self._done:
            return
        self._done = True
        if self._renewing is not None:
            self._renewing.cancel()
        try:
            await self._limiter.limits.finish(self.admission)
        finally:
            self._limiter._ticket_ended()
