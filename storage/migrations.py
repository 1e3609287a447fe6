"""Versioned SQLite schema migrations; ``PRAGMA user_version`` records how many have been applied."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import sqlite3
from collections.abc import AsyncIterator
from datetime import datetime, timezone
from pathlib import Path

import aiosqlite

log = logging.getLogger(__name__)

#: The fixed order of every probability vector (same as ``fer_engine.labels.EMOTIONS``).
EMOTIONS: tuple[str, ...] = ("angry", "disgust", "fear", "happy", "sad", "surprise", "neutral")

_EMOTION_SET = ", ".join(f"'{e}'" for e in EMOTIONS)
_PROBABILITY_COLUMNS = ",\n    ".join(f"{e} REAL NOT NULL CHECK ({e} BETWEEN 0 AND 1)" for e in EMOTIONS)

# Version 1: people, check-ins and the recommendations that were shown.
_V1 = f"""
CREATE TABLE people (
    user_id    INTEGER PRIMARY KEY,
    created_at TEXT NOT NULL,
    settings   TEXT NOT NULL DEFAULT '{{}}',
    consent_at TEXT
);

CREATE TABLE checkins (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    user_id INTEGER NOT NULL REFERENCES people(user_id) ON DELETE CASCADE,
    at TEXT NOT NULL,
    {_PROBABILITY_COLUMNS},
    top_emotion TEXT NOT NULL CHECK (top_emotion IN ({_EMOTION_SET})),
    faces INTEGER NOT NULL DEFAULT 1 CHECK (faces >= 0),
    corrected_emotion TEXT CHECK (corrected_emotion IS NULL OR corrected_emotion IN ({_EMOTION_SET}))
);
CREATE INDEX checkins_user_at ON checkins(user_id, at);

CREATE TABLE recommendations (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    user_id INTEGER NOT NULL REFERENCES people(user_id) ON DELETE CASCADE,
    checkin_id INTEGER REFERENCES checkins(id) ON DELETE SET NULL,
    kind TEXT NOT NULL,
    item_id TEXT NOT NULL,
    emotion TEXT NOT NULL,
    shown_at TEXT NOT NULL
);
"""

# Version 2: thumbs up/down on a shown recommendation, and the indexes its look-ups need.
_V2 = """
ALTER TABLE recommendations ADD COLUMN feedback INTEGER CHECK (feedback IS NULL OR feedback IN (-1, 1));
CREATE INDEX recommendations_user_item ON recommendations(user_id, item_id, shown_at);
CREATE INDEX recommendations_user_kind ON recommendations(user_id, kind, shown_at);
CREATE INDEX recommendations_checkin ON recommendations(checkin_id);
"""

# Version 3: the Telegram message a check-in came from, so a redelivered update (after a crash, the
# bot is given every unfinished update again) finds its check-in instead of adding a second one.
# Not the photo: a message number in the person's own chat.  NULLs (older rows) never collide.
_V3 = """
ALTER TABLE checkins ADD COLUMN message_id INTEGER;
CREATE UNIQUE INDEX checkins_user_message ON checkins(user_id, message_id);
"""

#: A quick check-in without a selfie may say "mixed": the person's own word, never a reading of the model.
MIXED = "mixed"
#: What a check-in's top (or corrected) emotion may be from version 4 on.
MOODS: tuple[str, ...] = (*EMOTIONS, MIXED)
#: What a check-in came from: a selfie reading, or the person saying it themselves (/mood, a reminder).
SOURCES: tuple[str, ...] = ("selfie", "self")
#: Longest note a person may add to a check-in, in characters (a tweet's worth: a line, not a diary page).
MAX_NOTE = 280

_MOOD_SET = ", ".join(f"'{m}'" for m in MOODS)
_SOURCE_SET = ", ".join(f"'{s}'" for s in SOURCES)
_CHECKIN_V3_COLUMNS = f"id, user_id, at, {', '.join(EMOTIONS)}, top_emotion, faces, corrected_emotion, message_id"

# Version 4: quick check-ins (source 'self', top emotion possibly 'mixed') and a short note per check-in.
# SQLite cannot change a CHECK constraint in place, so checkins is rebuilt: a copy with the new constraints takes
# every row (ids kept, and the AUTOINCREMENT counter, so ids of forgotten rows are never reused), then replaces
# the old table.  Foreign keys stay on during the migration (PRAGMA foreign_keys is ignored inside a transaction),
# so dropping the old table sets recommendations.checkin_id to NULL: the links are saved first and put back.
_V4 = f"""
CREATE TABLE checkins_v4 (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    user_id INTEGER NOT NULL REFERENCES people(user_id) ON DELETE CASCADE,
    at TEXT NOT NULL,
    {_PROBABILITY_COLUMNS},
    top_emotion TEXT NOT NULL CHECK (top_emotion IN ({_MOOD_SET})),
    faces INTEGER NOT NULL DEFAULT 1 CHECK (faces >= 0),
    corrected_emotion TEXT CHECK (corrected_emotion IS NULL OR corrected_emotion IN ({_MOOD_SET})),
    message_id INTEGER,
    source TEXT NOT NULL DEFAULT 'selfie' CHECK (source IN ({_SOURCE_SET})),
    note TEXT CHECK (note IS NULL OR length(note) BETWEEN 1 AND {MAX_NOTE})
);
INSERT INTO checkins_v4 ({_CHECKIN_V3_COLUMNS}) SELECT {_CHECKIN_V3_COLUMNS} FROM checkins;
DELETE FROM sqlite_sequence WHERE name = 'checkins_v4';
INSERT INTO sqlite_sequence (name, seq) SELECT 'checkins_v4', seq FROM sqlite_sequence WHERE name = 'checkins';
CREATE TEMP TABLE checkin_links AS SELECT id, checkin_id FROM recommendations WHERE checkin_id IS NOT NULL;
DROP TABLE checkins;
ALTER TABLE checkins_v4 RENAME TO checkins;
UPDATE recommendations SET checkin_id = (SELECT l.checkin_id FROM checkin_links AS l WHERE l.id = recommendations.id)
WHERE id IN (SELECT id FROM checkin_links);
DROP TABLE checkin_links;
CREATE INDEX checkins_user_at ON checkins(user_id, at);
CREATE UNIQUE INDEX checkins_user_message ON checkins(user_id, message_id);
"""

#: Migration scripts; the script at index ``i`` brings the database from version ``i`` to ``i + 1``.
MIGRATIONS: list[str] = [_V1, _V2, _V3, _V4]
LATEST_VERSION: int = len(MIGRATIONS)


async def schema_version(db: aiosqlite.Connection) -> int:
    """The schema version recorded in ``PRAGMA user_version``."""
    async with db.execute("PRAGMA user_version") as cursor:
        row = await cursor.fetchone()
    return int(row[0]) if row else 0


#: How long a second process opening the same database waits for the first one's migration (and backup).
MIGRATION_BUSY_TIMEOUT_MS = 60_000
#: UTC time stamp in a backup file's name: sortable, no characters a file system objects to.
_BACKUP_STAMP = "%Y%m%dT%H%M%SZ"


async def migrate(db: aiosqlite.Connection, target: int | None = None) -> int:
    """Apply the pending migrations up to ``target`` (default: latest) in one write transaction.

    The version is read only once the write lock is held (``BEGIN IMMEDIATE``): two processes opening
    one new database then migrate it one after the other, and the second finds nothing left to do.
    A database that already holds data is first copied to a backup file beside it.
    """
    target = LATEST_VERSION if target is None else target
    if not 0 <= target <= LATEST_VERSION:
        raise ValueError(f"unknown schema version {target} (latest is {LATEST_VERSION})")
    async with _waiting_for_locks(db, MIGRATION_BUSY_TIMEOUT_MS):
        await db.execute("BEGIN IMMEDIATE")
        try:
            version = await schema_version(db)
            if version > LATEST_VERSION:
                raise RuntimeError(f"database schema version {version} is newer than this code ({LATEST_VERSION})")
            if version < target:
                await _back_up(db, version)
                version = await _apply(db, version, target)
            await db.commit()
        except BaseException:
            if db.in_transaction:
                await db.rollback()
            raise
    return version


async def _apply(db: aiosqlite.Connection, version: int, target: int) -> int:
    """Run the scripts from ``version`` to ``target`` inside the caller's transaction; returns ``target``."""
    while version < target:
        version += 1
        log.info("applying schema migration %d", version)
        for statement in _statements(MIGRATIONS[version - 1]):
            await db.execute(statement)
    # The pragma is transactional, so the schema changes and their version number commit together.
    await db.execute(f"PRAGMA user_version = {version}")
    return version


@contextlib.asynccontextmanager
async def _waiting_for_locks(db: aiosqlite.Connection, timeout_ms: int) -> AsyncIterator[None]:
    """Wait up to ``timeout_ms`` for another connection's lock (not the connection's usual few seconds)."""
    async with db.execute("PRAGMA busy_timeout") as cursor:
        row = await cursor.fetchone()
    usual = int(row[0]) if row else 0
    await db.execute(f"PRAGMA busy_timeout = {max(usual, timeout_ms)}")
    try:
        yield
    finally:
        await db.execute(f"PRAGMA busy_timeout = {usual}")


def _statements(script: str) -> list[str]:
    """A migration script as single statements.

    ``executescript`` would commit the open transaction first and so give up the write lock
    that keeps a second process from migrating the same database at the same time.
    """
    statements: list[str] = []
    pending = ""
    for line in script.splitlines(keepends=True):
        pending += line
        if sqlite3.complete_statement(pending):
            statements.append(pending.strip())
            pending = ""
    if pending.strip():
        raise ValueError(f"incomplete statement in a migration script: {pending.strip()[:80]!r}")
    return statements


async def _back_up(db: aiosqlite.Connection, version: int) -> Path | None:
    """Copy a database with data (``version`` >= 1) to ``<name>.v<version>-<UTC time>.bak`` beside it.

    SQLite's online backup API, not a file copy: a file copy could miss commits still in the WAL.
    It reads through a second connection because SQLite refuses to back up from a connection
    in a write transaction; the write lock held here keeps the copy at exactly ``version``.
    """
    path = await _database_file(db)
    if version < 1 or path is None:
        return None  # nothing to lose: a new database, or one in memory
    stamp = datetime.now(timezone.utc).strftime(_BACKUP_STAMP)
    backup = path.with_name(f"{path.name}.v{version}-{stamp}.bak")
    await asyncio.to_thread(_copy_database, path, backup)
    log.info("backed up %s (schema version %d) to %s before migrating it", path, version, backup)
    return backup


async def _database_file(db: aiosqlite.Connection) -> Path | None:
    """The file behind the connection's main database, or ``None`` for an in-memory one."""
    async with db.execute("PRAGMA database_list") as cursor:
        rows = await cursor.fetchall()
    files = [row[2] for row in rows if row[1] == "main" and row[2]]
    return Path(files[0]) if files else None


def _copy_database(source: Path, backup: Path) -> None:
    with (
        contextlib.closing(sqlite3.connect(source)) as reader,
        contextlib.closing(sqlite3.connect(backup)) as copy,
    ):
        reader.backup(copy)
