"""Versioned SQLite schema migrations; ``PRAGMA user_version`` records how many have been applied."""

from __future__ import annotations

import logging

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

#: Migration scripts; the script at index ``i`` brings the database from version ``i`` to ``i + 1``.
MIGRATIONS: list[str] = [_V1, _V2]
LATEST_VERSION: int = len(MIGRATIONS)


async def schema_version(db: aiosqlite.Connection) -> int:
    """The schema version recorded in ``PRAGMA user_version``."""
    async with db.execute("PRAGMA user_version") as cursor:
        row = await cursor.fetchone()
    return int(row[0]) if row else 0


async def migrate(db: aiosqlite.Connection, target: int | None = None) -> int:
    """Apply the pending migrations up to ``target`` (default: latest), each in its own transaction."""
    target = LATEST_VERSION if target is None else target
    if not 0 <= target <= LATEST_VERSION:
        raise ValueError(f"unknown schema version {target} (latest is {LATEST_VERSION})")
    version = await schema_version(db)
    if version > LATEST_VERSION:
        raise RuntimeError(f"database schema version {version} is newer than this code ({LATEST_VERSION})")
    while version < target:
        script = MIGRATIONS[version]
        version += 1
        log.info("applying schema migration %d", version)
        try:
            # The pragma is transactional, so the schema change and its version number commit together.
            await db.executescript(f"BEGIN IMMEDIATE;\n{script}\nPRAGMA user_version = {version};\nCOMMIT;")
        except Exception:
            if db.in_transaction:
                await db.rollback()
            raise
    return version
