"""PostgreSQL behind the storage interface (asyncpg): a connection pool shared by one process's handlers, with
several processes (webhook workers) on one database; what must stay consistent between them is kept consistent
by the database itself: transactions, row locks, and an advisory lock around migrations."""

from __future__ import annotations

import functools
import logging
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from typing import Any

import asyncpg

from storage.migrations import LATEST_VERSION, SCHEMA
from storage.urls import POSTGRESQL

log = logging.getLogger(__name__)

#: Connections per process: handlers wait for one beyond this (a worker runs a few recognitions at once).
POOL_MIN, POOL_MAX = 1, 10
#: Key of the advisory lock that lets one process at a time migrate ("MoodLens" in ASCII).
MIGRATION_LOCK = int.from_bytes(b"MoodLens", "big")
#: One row per applied schema version.
_VERSION_TABLE = """
CREATE TABLE IF NOT EXISTS schema_migrations (
    version INTEGER PRIMARY KEY,
    applied_at TIMESTAMPTZ NOT NULL DEFAULT now()
)
"""


@functools.lru_cache(maxsize=512)
def numbered_placeholders(sql: str) -> str:
    """``?`` placeholders as PostgreSQL's ``$1, $2, …`` (a ``?`` inside a quoted literal stays)."""
    out: list[str] = []
    number = 0
    quoted = False
    for char in sql:
        if char == "'":
            quoted = not quoted
        if char == "?" and not quoted:
            number += 1
            out.append(f"${number}")
        else:
            out.append(char)
    return "".join(out)


def _changed_rows(status: str) -> int:
    """The row count at the end of a command tag such as ``UPDATE 1`` or ``INSERT 0 3``."""
    last = status.rsplit(" ", 1)[-1]
    return int(last) if last.isdigit() else 0


class PostgresSession:
    """Statements on one pooled connection."""

    def __init__(self, connection: asyncpg.Connection) -> None:
        self._connection = connection

    async def fetchone(self, sql: str, *params: Any) -> asyncpg.Record | None:
        return await self._connection.fetchrow(numbered_placeholders(sql), *params)

    async def fetchall(self, sql: str, *params: Any) -> Sequence[asyncpg.Record]:
        return await self._connection.fetch(numbered_placeholders(sql), *params)

    async def execute(self, sql: str, *params: Any) -> int:
        return _changed_rows(await self._connection.execute(numbered_placeholders(sql), *params))


class PostgresDatabase:
    """A pool of connections; each ``transaction()`` runs on one of them, READ COMMITTED, with row locks where
    the store asks for them (``for_update`` and friends)."""

    dialect = POSTGRESQL
    for_update = " FOR UPDATE"
    for_share = " FOR SHARE"
    for_update_skip_locked = " FOR UPDATE SKIP LOCKED"
    lock_key = "SELECT pg_advisory_xact_lock(?)"

    def __init__(self, pool: asyncpg.Pool) -> None:
        self._pool = pool

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[PostgresSession]:
        async with self._pool.acquire() as connection, connection.transaction():
            yield PostgresSession(connection)

    @asynccontextmanager
    async def reading(self) -> AsyncIterator[PostgresSession]:
        # One snapshot for the whole read: an export's check-ins and recommendations agree with each other.
        async with (
            self._pool.acquire() as connection,
            connection.transaction(isolation="repeatable_read", readonly=True),
        ):
            yield PostgresSession(connection)

    async def close(self) -> None:
        await self._pool.close()


async def migrate_postgres(connection: asyncpg.Connection, target: int | None = None) -> int:
    """Apply the pending versions of ``storage.migrations.SCHEMA`` in one transaction; returns the version reached.

    An advisory lock held for the transaction makes workers that start at once migrate one after the other;
    the later ones find nothing left to do.  PostgreSQL's DDL is transactional: a failed step leaves no trace.
    """
    target = LATEST_VERSION if target is None else target
    if not 0 <= target <= LATEST_VERSION:
        raise ValueError(f"unknown schema version {target} (latest is {LATEST_VERSION})")
    async with connection.transaction():
        await connection.execute("SELECT pg_advisory_xact_lock($1)", MIGRATION_LOCK)
        await connection.execute(_VERSION_TABLE)
        version = int(await connection.fetchval("SELECT COALESCE(max(version), 0) FROM schema_migrations"))
        if version > LATEST_VERSION:
            raise RuntimeError(f"database schema version {version} is newer than this code ({LATEST_VERSION})")
        while version < target:
            version += 1
            log.info("applying schema migration %d", version)
            await connection.execute(SCHEMA[version - 1].script(POSTGRESQL))
            await connection.execute("INSERT INTO schema_migrations (version) VALUES ($1)", version)
    return version


async def postgres_schema_version(connection: asyncpg.Connection) -> int:
    """The highest applied schema version (0 for an empty database)."""
    exists = await connection.fetchval("SELECT to_regclass('schema_migrations') IS NOT NULL")
    if not exists:
        return 0
    return int(await connection.fetchval("SELECT COALESCE(max(version), 0) FROM schema_migrations"))


async def open_postgres(url: str) -> PostgresDatabase:
    """Connect a pool to ``url`` and migrate the database.  Errors never include the URL (it may hold a password)."""
    pool = await asyncpg.create_pool(url, min_size=POOL_MIN, max_size=POOL_MAX)
    try:
        async with pool.acquire() as connection:
            version = await migrate_postgres(connection)
        log.debug("opened PostgreSQL database at schema version %d", version)
    except BaseException:
        await pool.close()
        raise
    return PostgresDatabase(pool)
