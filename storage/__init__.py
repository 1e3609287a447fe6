"""SQLite mood-history storage (aiosqlite): people, check-ins, shown recommendations and feedback."""

from storage.migrations import (
    EMOTIONS,
    LATEST_VERSION,
    MAX_NOTE,
    MIGRATIONS,
    MIXED,
    MOODS,
    SOURCES,
    migrate,
    schema_version,
)
from storage.store import CSV_HEADER, CheckIn, NotConsented, Recommendation, Store, open_store

__all__ = [
    "CSV_HEADER",
    "EMOTIONS",
    "LATEST_VERSION",
    "MAX_NOTE",
    "MIGRATIONS",
    "MIXED",
    "MOODS",
    "SOURCES",
    "NotConsented",
    "CheckIn",
    "Recommendation",
    "Store",
    "migrate",
    "open_store",
    "schema_version",
]
