"""SQLite behind the storage interface: one aiosqlite connection, WAL, one transaction at a time."""

from __future__ import annotations

import asyncio
import logging
import sqlite3
import time
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import aiosqlite

from storage.migrations import MIGRATION_BUSY_TIMEOUT_MS, migrate
from storage.urls import SQLITE

log = logging.getLogger(__name__)

#: How long a statement waits for another process's write lock before giving up.
BUSY_TIMEOUT_MS = 5000
#: Pause between tries to switch a database another process holds to WAL.
WAL_RETRY_S = 0.05


class SqliteSession:
    """Statements on the connection the database holds for the caller."""

    def __init__(self, db: aiosqlite.Connection) -> None:
        self._db = db

    async def fetchone(self, sql: str, *params: Any) -> aiosqlite.Row | None:
        async with self._db.execute(sql, params) as cursor:
            return await cursor.fetchone()

    async def fetchall(self, sql: str, *params: Any) -> Sequence[aiosqlite.Row]:
        async with self._db.execute(sql, params) as cursor:
            return list(await cursor.fetchall())

    async def execute(self, sql: str, *params: Any) -> int:
        async with self._db.execute(sql, params) as cursor:
            return max(cursor.rowcount, 0)


class SqliteDatabase:
    """One connection, used by one call at a time (an asyncio lock); writes in ``BEGIN IMMEDIATE`` transactions,
    which also take the write lock against other processes sharing the file, so none needs row locks."""

    dialect = SQLITE
    for_update = ""
    for_share = ""
    for_update_skip_locked = ""
    lock_key = ""

    def __init__(self, db: aiosqlite.Connection) -> None:
        self._db = db
        self._lock = asyncio.Lock()

    @property
    def connection(self) -> aiosqlite.Connection:
        """The underlying connection (for tests and maintenance)."""
        return self._db

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[SqliteSession]:
        async with self._lock:
            await self._db.execute("BEGIN IMMEDIATE")
            try:
                yield SqliteSession(self._db)
            except BaseException:
                await self._db.execute("ROLLBACK")
                raise
            else:
                await self._db.execute("COMMIT")

    @asynccontextmanager
    async def reading(self) -> AsyncIterator[SqliteSession]:
        # Under the lock, a read never sees another call's half-done transaction on this connection.
        async with self._lock:
            yield SqliteSession(self._db)

    async def close(self) -> None:
        """Close the connection (checkpointing the WAL)."""
        async with self._lock:
            await self._db.close()


async def _switch_to_wal(db: aiosqlite.Connection) -> str:
    """``PRAGMA journal_mode = WAL``; returns the mode the database is in afterwards.

    Switching needs the database to itself.  When another process is migrating the same new file, SQLite may
    answer "database is locked" at once instead of waiting (it does not wait where waiting could deadlock), so
    this retries for as long as a migration may take.
    """
    deadline = time.monotonic() + MIGRATION_BUSY_TIMEOUT_MS / 1000
    while True:
        try:
            async with db.execute("PRAGMA journal_mode = WAL") as cursor:
                row = await cursor.fetchone()
            return str(row[0]).lower() if row else ""
        except sqlite3.OperationalError as exc:
            if "locked" not in str(exc) or time.monotonic() > deadline:
                raise
            await asyncio.sleep(WAL_RETRY_S)


async def open_sqlite(path: str | Path) -> SqliteDatabase:
    """Open (creating if needed) the file at ``path``, switch on WAL and foreign keys, and migrate it."""
    if str(path) != ":memory:":
        Path(path).parent.mkdir(parents=True, exist_ok=True)
    db = await aiosqlite.connect(str(path), isolation_level=None)
    try:
        db.row_factory = aiosqlite.Row
        await db.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
        mode = await _switch_to_wal(db)
        if mode != "wal" and str(path) != ":memory:":
            log.warning("could not switch %s to WAL (journal_mode=%s)", path, mode)
        await db.execute("PRAGMA foreign_keys = ON")
        # FULL: in WAL mode NORMAL survives a crashed process but may lose the last commits to a power
        # cut; a check-in the person was told about must survive both.
        await db.execute("PRAGMA synchronous = FULL")
        version = await migrate(db)
        log.debug("opened SQLite database %s at schema version %d", path, version)
    except BaseException:
        await db.close()
        raise
    return SqliteDatabase(db)
