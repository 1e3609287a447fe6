"""Per-person photo limits: N photos per minute, and at most K of them being recognised at once.

Photos over the per-minute quota are refused (with a friendly message, itself throttled); photos within
the quota but over the in-flight limit wait for the person's own earlier photos, so one person's burst
holds at most K recognition workers and everyone else keeps being served.  Runs on the event loop only.
"""

from __future__ import annotations

import asyncio
import time
from collections import deque
from collections.abc import Callable, Hashable
from dataclasses import dataclass, field
from types import TracebackType

WINDOW_S = 60.0


class RateLimited(Exception):
    """Refused: try again in ``retry_after`` seconds; ``notify`` is False when the person was told recently."""

    def __init__(self, retry_after: float, notify: bool) -> None:
        super().__init__(f"rate limited, retry after {retry_after:.0f}s")
        self.retry_after = retry_after
        self.notify = notify


@dataclass
class _Person:
    admitted: deque[float] = field(default_factory=deque)
    semaphore: asyncio.Semaphore | None = None
    holders: int = 0  # admitted tickets not yet finished (waiting or running)
    last_notice: float = float("-inf")


class RateLimiter:
    """Admission control per key (a user id)."""

    def __init__(
        self,
        per_minute: int,
        in_flight: int,
        *,
        notice_interval: float = 10.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        if per_minute < 1 or in_flight < 1:
            raise ValueError("per_minute and in_flight must be >= 1")
        self.per_minute = per_minute
        self.in_flight = in_flight
        self.notice_interval = notice_interval
        self._clock = clock
        self._people: dict[Hashable, _Person] = {}

    def admit(self, key: Hashable) -> Ticket:
        """Count one photo against the quota and return a ticket; raise RateLimited when over it."""
        now = self._clock()
        person = self._people.setdefault(key, _Person())
        while person.admitted and now - person.admitted[0] >= WINDOW_S:
            person.admitted.popleft()
        if len(person.admitted) >= self.per_minute:
            retry_after = max(1.0, WINDOW_S - (now - person.admitted[0]))
            notify = now - person.last_notice >= self.notice_interval
            if notify:
                person.last_notice = now
            raise RateLimited(retry_after, notify)
        person.admitted.append(now)
        person.holders += 1
        if person.semaphore is None:
            person.semaphore = asyncio.Semaphore(self.in_flight)
        return Ticket(self, key, person)

    def active(self, key: Hashable) -> int:
        """Tickets of ``key`` admitted and not finished yet."""
        person = self._people.get(key)
        return person.holders if person else 0

    def __len__(self) -> int:
        """People currently tracked (idle ones are dropped as their window empties)."""
        return len(self._people)

    def _finished(self, key: Hashable, person: _Person) -> None:
        person.holders -= 1
        now = self._clock()
        while person.admitted and now - person.admitted[0] >= WINDOW_S:
            person.admitted.popleft()
        if person.holders == 0 and not person.admitted and now - person.last_notice >= self.notice_interval:
            self._people.pop(key, None)
        self._sweep(now)

    def _sweep(self, now: float) -> None:
        # Keep memory bounded by the people active in the last minute.
        if len(self._people) < 1024:
            return
        for key, person in list(self._people.items()):
            if person.holders == 0 and (not person.admitted or now - person.admitted[-1] >= WINDOW_S):
                del self._people[key]


class Ticket:
    """An admitted photo: ``async with ticket:`` waits for one of the person's in-flight slots."""

    def __init__(self, limiter: RateLimiter, key: Hashable, person: _Person) -> None:
        self._limiter = limiter
        self._key = key
        self._person = person
        self._acquired = False
        self._done = False

    async def __aenter__(self) -> Ticket:
        assert self._person.semaphore is not None
        try:
            await self._person.semaphore.acquire()
        except BaseException:
            self.close()
            raise
        self._acquired = True
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()

    def close(self) -> None:
        """Give the slot back (idempotent); for tickets that are never entered too."""
        if self._done:
            return
        self._done = True
        if self._acquired and self._person.semaphore is not None:
            self._person.semaphore.release()
        self._limiter._finished(self._key, self._person)
