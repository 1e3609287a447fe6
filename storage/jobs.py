"""Due jobs: each person's next reminder or weekly summary as a row that the tick of any worker may claim.

A row is (kind, user_id) -> due_at, lease_until.  Whoever changes a person's schedule writes the row, so every
worker sees it; nothing about the schedule lives in a process.  The life of one job, and what a crash does:

1. **claim** (one short transaction): the oldest due row whose lease is free is locked (PostgreSQL:
   ``FOR UPDATE SKIP LOCKED``, so workers ticking at the same moment take different rows; SQLite: the write
   transaction serialises them) and leased to the caller until ``now + lease``; committed before anything is sent.
   A claimed row is invisible to other claims until its lease runs out.
2. **send**, outside any transaction.
3. **finish**: the row moves to its next due time (or goes), but only while it still carries this claim
   (same due_at and lease_until): a reschedule by the person meanwhile wins, and so does a worker that took the
   job over after the lease ran out.

Among live workers each job is sent once.  A worker that dies between claim and finish stops holding it: once the
lease runs out another worker claims and sends it, so a job survives the worker that scheduled or claimed it.
The one window left is a worker dying after Telegram took the message and before finish committed (the time of
one database write): then it is sent again.  We chose that (at least once, on a crash) over finishing before
sending (at most once), which would lose the reminder silently whenever a worker died between claim and send.
The lease must outlast a send; the caller picks it.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta

from storage.database import Database
from storage.store import from_iso, to_iso


@dataclass(frozen=True)
class Job:
    """A claimed job: whose, when it was due, and until when this claim holds it."""

    kind: str
    user_id: int
    due_at: datetime
    lease_until: datetime


class DueJobs:
    """The due_jobs table: scheduling, claiming and finishing, each in one transaction."""

    def __init__(self, db: Database) -> None:
        self._db = db

    async def schedule(self, kind: str, user_id: int, due_at: datetime | None) -> None:
        """Set (or, with None, remove) the person's next ``kind`` job.

        A claim in progress keeps its lease when the time does not change (a settings change that leaves the
        schedule as it was must not let a second worker send the same job).
        """
        async with self._db.transaction() as db:
            if due_at is None:
                await db.execute("DELETE FROM due_jobs WHERE kind = ? AND user_id = ?", kind, user_id)
                return
            await db.execute(
                "INSERT INTO due_jobs (kind, user_id, due_at, lease_until) VALUES (?, ?, ?, NULL) "
                "ON CONFLICT (kind, user_id) DO UPDATE SET due_at = excluded.due_at, lease_until = "
                "CASE WHEN due_jobs.due_at = excluded.due_at THEN due_jobs.lease_until END",
                kind,
                user_id,
                to_iso(due_at),
            )

    async def schedule_missing(self, kind: str, due: Mapping[int, datetime]) -> int:
        """Add a row for each person in ``due`` who has none of ``kind`` (existing rows stay); returns how many."""
        added = 0
        async with self._db.transaction() as db:
            # Every tick calls this for everyone with the setting: write only for people without a row.
            rows = await db.fetchall("SELECT user_id FROM due_jobs WHERE kind = ?", kind)
            present = {int(r["user_id"]) for r in rows}
            for user_id, due_at in due.items():
                if user_id in present:
                    continue
                added += await db.execute(
                    "INSERT INTO due_jobs (kind, user_id, due_at) VALUES (?, ?, ?) "
                    "ON CONFLICT (kind, user_id) DO NOTHING",
                    kind,
                    user_id,
                    to_iso(due_at),
                )
        return added

    async def claim(self, kind: str, now: datetime, lease: timedelta) -> Job | None:
        """Lease the oldest ``kind`` job due by ``now`` that nobody holds; None when there is none."""
        stamp = to_iso(now)
        until = now + lease
        async with self._db.transaction() as db:
            row = await db.fetchone(
                "SELECT user_id, due_at FROM due_jobs WHERE kind = ? AND due_at <= ?"
                " AND (lease_until IS NULL OR lease_until <= ?) ORDER BY due_at, user_id LIMIT 1"
                + self._db.for_update_skip_locked,
                kind,
                stamp,
                stamp,
            )
            if row is None:
                return None
            await db.execute(
                "UPDATE due_jobs SET lease_until = ? WHERE kind = ? AND user_id = ?",
                to_iso(until),
                kind,
                row["user_id"],
            )
        return Job(kind, int(row["user_id"]), from_iso(row["due_at"]), until)

    async def finish(self, job: Job, next_due: datetime | None) -> bool:
        """Move the claimed job to ``next_due`` (None: remove it); False when the claim was lost meanwhile."""
        claim = (job.kind, job.user_id, to_iso(job.due_at), to_iso(job.lease_until))
        where = "WHERE kind = ? AND user_id = ? AND due_at = ? AND lease_until = ?"
        async with self._db.transaction() as db:
            if next_due is None:
                changed = await db.execute(f"DELETE FROM due_jobs {where}", *claim)
            else:
                changed = await db.execute(
                    f"UPDATE due_jobs SET due_at = ?, lease_until = NULL {where}", to_iso(next_due), *claim
                )
        return changed == 1

    async def scheduled(self, kind: str) -> dict[int, datetime]:
        """Person -> the next due time of their ``kind`` job."""
        async with self._db.reading() as db:
            rows = await db.fetchall("SELECT user_id, due_at FROM due_jobs WHERE kind = ?", kind)
        return {int(r["user_id"]): from_iso(r["due_at"]) for r in rows}
