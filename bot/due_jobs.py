"""One tick of a kind of scheduled message (reminders, weekly summaries): claim each due job, handle it, finish it.

The jobs are rows any worker may claim (storage.jobs, which also explains the crash windows), so the same tick
runs on every worker and each job is still handled once.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from storage.jobs import DueJobs, Job

log = logging.getLogger(__name__)

#: How long a claimed job is its worker's: longer than one send takes (retries on a flood wait included); a job
#: whose worker died is taken over after this.
LEASE = timedelta(minutes=5)


@dataclass(frozen=True)
class Outcome:
    """What handling a job did: whether the message went out, and when the person's next one is due (None: never)."""

    sent: bool
    next_due: datetime | None


Handler = Callable[[Job, datetime], Awaitable[Outcome]]


async def run_due(jobs: DueJobs, kind: str, now: datetime, handle: Handler) -> list[int]:
    """Claim and handle every ``kind`` job due by ``now``; returns whom a message was sent to."""
    sent: list[int] = []
    handled: set[int] = set()
    while (job := await jobs.claim(kind, now, LEASE)) is not None:
        if job.user_id in handled:  # rescheduled into the past: the next tick takes it, not this loop again
            await jobs.finish(job, job.due_at)
            break
        handled.add(job.user_id)
        try:
            outcome = await handle(job, now)
        except Exception:  # one person's failure must not hold up everyone else's; the lease retries it later
            log.exception("a %s job failed; it is retried once its lease runs out", kind)
            continue
        if not await jobs.finish(job, outcome.next_due):
            log.info("a %s job was rescheduled while it was being handled", kind)
        if outcome.sent:
            sent.append(job.user_id)
    return sent
