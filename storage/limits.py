"""Per-person rate limits kept in the database, so every worker behind the proxy counts the same requests.

One row per admitted request (``rate_events``, kind "admitted"): the per-minute quota counts the rows of the last
``WINDOW``; while the request is in flight (waiting for or holding one of the person's slots) the row carries a
lease its worker renews, and the first ``in_flight`` live rows by id hold the slots, so later requests wait in
order.  A worker that dies stops renewing: its rows fall out of the count when their lease expires.  A friendly
refusal that was shown is a row of kind "told", so the next one waits ``notice_interval`` whichever worker refuses.

Rows say when a person sent something, so they are kept no longer than the window (pruned on the person's next
request and by :meth:`RateLimits.prune`).  Admission runs under a per-person lock: PostgreSQL's
``pg_advisory_xact_lock`` on a hash of (limit, person); SQLite's write transaction already serialises every writer.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import datetime, timedelta

from storage.database import Database, Session
from storage.store import to_iso

#: The per-minute quotas look back this far; older rows are deleted.
WINDOW = timedelta(seconds=60)


@dataclass(frozen=True)
class Refusal:
    """Over the quota: try again in ``retry_after`` seconds; ``notify`` is False when the person was told recently."""

    retry_after: float
    notify: bool


def lock_key(bucket: str, user_id: int) -> int:
    """A signed 64-bit key for the advisory lock of one person's limit (a collision only serialises two people)."""
    digest = hashlib.blake2b(f"rate:{bucket}:{user_id}".encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big", signed=True)


class RateLimits:
    """The rows behind :class:`bot.rate_limit.RateLimiter`; every method is one short transaction."""

    def __init__(self, db: Database) -> None:
        self._db = db

    async def admit(
        self,
        bucket: str,
        user_id: int,
        *,
        now: datetime,
        per_minute: int,
        notice_interval: timedelta,
        lease: timedelta | None,
    ) -> int | Refusal:
        """Count one request against ``per_minute``: its admission id, or a Refusal (and nothing counted).

        With ``lease`` the admission is in flight until :meth:`finish` (or until the lease, renewed by
        :meth:`renew`, runs out); without, it only counts against the quota.
        """
        since = to_iso(now - WINDOW)
        async with self._db.transaction() as db:
            if self._db.lock_key:
                await db.execute(self._db.lock_key, lock_key(bucket, user_id))
            await db.execute(
                "DELETE FROM rate_events WHERE bucket = ? AND user_id = ? AND at < ?"
                " AND (lease_until IS NULL OR lease_until < ?)",
                bucket,
                user_id,
                since,
                to_iso(now),
            )
            rows = await db.fetchall(
                "SELECT kind, at FROM rate_events WHERE bucket = ? AND user_id = ? AND at >= ? ORDER BY at",
                bucket,
                user_id,
                since,
            )
            admitted = [row["at"] for row in rows if row["kind"] == "admitted"]
            if len(admitted) >= per_minute:
                oldest = datetime.fromisoformat(admitted[-per_minute])
                retry_after = max(1.0, (WINDOW - (now - oldest)).total_seconds())
                told = [row["at"] for row in rows if row["kind"] == "told"]
                notify = not told or now - datetime.fromisoformat(told[-1]) >= notice_interval
                if notify:
                    await self._insert(db, bucket, user_id, "told", now, None)
                return Refusal(retry_after, notify)
            return await self._insert(db, bucket, user_id, "admitted", now, None if lease is None else now + lease)

    @staticmethod
    async def _insert(
        db: Session, bucket: str, user_id: int, kind: str, now: datetime, lease_until: datetime | None
    ) -> int:
        row = await db.fetchone(
            "INSERT INTO rate_events (bucket, user_id, kind, at, lease_until) VALUES (?, ?, ?, ?, ?) RETURNING id",
            bucket,
            user_id,
            kind,
            to_iso(now),
            None if lease_until is None else to_iso(lease_until),
        )
        assert row is not None
        return int(row["id"])

    async def in_turn(self, admission: int, bucket: str, user_id: int, *, now: datetime, in_flight: int) -> bool:
        """Whether the admission is among the person's first ``in_flight`` live ones (its turn to run).

        An admission that is no longer live (its lease ran out while its worker was stalled) goes ahead rather
        than wait for ever.
        """
        async with self._db.reading() as db:
            rows = await db.fetchall(
                "SELECT id FROM rate_events WHERE bucket = ? AND user_id = ? AND kind = 'admitted'"
                " AND lease_until > ? AND id <= ? ORDER BY id",
                bucket,
                user_id,
                to_iso(now),
                admission,
            )
        live = bool(rows) and int(rows[-1]["id"]) == admission
        return not live or len(rows) <= in_flight

    async def renew(self, admission: int, until: datetime) -> bool:
        """Extend an in-flight admission's lease; False when it is finished or gone."""
        async with self._db.transaction() as db:
            changed = await db.execute(
                "UPDATE rate_events SET lease_until = ? WHERE id = ? AND lease_until IS NOT NULL",
                to_iso(until),
                admission,
            )
        return changed == 1

    async def finish(self, admission: int) -> None:
        """The request is done: its slot is free (the row still counts against the quota until the window ends)."""
        async with self._db.transaction() as db:
            await db.execute("UPDATE rate_events SET lease_until = NULL WHERE id = ?", admission)

    async def in_flight(self, bucket: str, user_id: int, now: datetime) -> int:
        """The person's admissions in flight (waiting or running) now."""
        async with self._db.reading() as db:
            row = await db.fetchone(
                "SELECT count(*) AS n FROM rate_events WHERE bucket = ? AND user_id = ? AND kind = 'admitted'"
                " AND lease_until > ?",
                bucket,
                user_id,
                to_iso(now),
            )
        return int(row["n"]) if row else 0

    async def prune(self, now: datetime) -> int:
        """Delete everyone's rows older than the window and not in flight; returns how many."""
        async with self._db.transaction() as db:
            return await db.execute(
                "DELETE FROM rate_events WHERE at < ? AND (lease_until IS NULL OR lease_until < ?)",
                to_iso(now - WINDOW),
                to_iso(now),
            )

    async def rows(self, bucket: str | None = None) -> int:
        """How many rows are kept (for tests: the table stays as small as the last minute's traffic)."""
        async with self._db.reading() as db:
            if bucket is None:
                row = await db.fetchone("SELECT count(*) AS n FROM rate_events")
            else:
                row = await db.fetchone("SELECT count(*) AS n FROM rate_events WHERE bucket = ?", bucket)
        return int(row["n"]) if row else 0
