"""The one interface the store talks to, whichever database is behind it (SQLite file or PostgreSQL server).

SQL is written once, with ``?`` placeholders and the syntax both backends share (``ON CONFLICT``, ``RETURNING``);
each backend turns it into its own.  The few clauses that exist on one backend only (row locks) are attributes
here, empty where the backend needs none: SQLite's writers already take the whole database in turn.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from contextlib import AbstractAsyncContextManager
from typing import Any, Protocol

from storage.postgres_db import open_postgres
from storage.sqlite_db import open_sqlite
from storage.urls import POSTGRESQL, parse_database_url

#: A result row: read columns by name (``row["id"]``) or position.
Row = Mapping[str, Any]


class Session(Protocol):
    """Statements inside one transaction (or one consistent read)."""

    async def fetchone(self, sql: str, *params: Any) -> Row | None: ...

    async def fetchall(self, sql: str, *params: Any) -> Sequence[Row]: ...

    async def execute(self, sql: str, *params: Any) -> int:
        """Run a statement; returns the number of rows it changed."""
        ...


class Database(Protocol):
    """A migrated database: ``transaction()`` for writes (all or nothing), ``reading()`` for consistent reads."""

    dialect: str
    #: Appended to a SELECT to lock its rows until the transaction ends ("" on SQLite).
    for_update: str
    #: ... to let others read but not change or delete them until the transaction ends.
    for_share: str
    #: ... to lock the rows it can and skip the ones another transaction holds (a queue's claim).
    for_update_skip_locked: str
    #: A statement taking a lock on one 64-bit key until the transaction ends ("" on SQLite): serialises work on
    #: something that has no row to lock yet (a person's rate limits).
    lock_key: str

    def transaction(self) -> AbstractAsyncContextManager[Session]: ...

    def reading(self) -> AbstractAsyncContextManager[Session]: ...

    async def close(self) -> None: ...


async def open_database(target: str) -> Database:
    """Open and migrate the database ``target`` names (see :func:`storage.urls.parse_database_url`)."""
    parsed = parse_database_url(target)
    if parsed.dialect == POSTGRESQL:
        return await open_postgres(parsed.location)
    return await open_sqlite(parsed.location)
