"""SQLite mood-history storage (aiosqlite): people, check-ins, shown recommendations and feedback."""

from storage.migrations import EMOTIONS, LATEST_VERSION, MIGRATIONS, migrate, schema_version
from storage.store import CSV_HEADER, CheckIn, Recommendation, Store, open_store

__all__ = [
    "CSV_HEADER",
    "EMOTIONS",
    "LATEST_VERSION",
    "MIGRATIONS",
    "CheckIn",
    "Recommendation",
    "Store",
    "migrate",
    "open_store",
    "schema_version",
]
