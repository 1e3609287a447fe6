"""Which database a target names: a SQLite file (a path, or ``sqlite:///path``) or a PostgreSQL server URL."""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import urlsplit

SQLITE = "sqlite"
POSTGRESQL = "postgresql"
_POSTGRES_SCHEMES = ("postgresql", "postgres")
_SQLITE_PREFIX = "sqlite:///"


@dataclass(frozen=True)
class DatabaseTarget:
    """A parsed target: ``dialect`` is SQLITE or POSTGRESQL; ``location`` a file path (or ``:memory:``) or the URL."""

    dialect: str
    location: str


def parse_database_url(target: str) -> DatabaseTarget:
    """``sqlite:///data/x.db`` (relative), ``sqlite:////abs/x.db``, ``postgresql://user:pw@host/db``, or a bare path.

    Errors never quote the target: a PostgreSQL URL may carry a password.
    """
    text = str(target).strip()
    if not text:
        raise ValueError("empty database target")
    if text.startswith(_SQLITE_PREFIX):
        path = text[len(_SQLITE_PREFIX) :]
        if not path:
            raise ValueError("sqlite:/// needs a file path after it (sqlite:///data/moodlens.db)")
        return DatabaseTarget(SQLITE, path)
    if "://" not in text:
        return DatabaseTarget(SQLITE, text)
    parts = urlsplit(text)
    if parts.scheme not in _POSTGRES_SCHEMES:
        raise ValueError(f"unsupported scheme {parts.scheme!r}: use sqlite:///path or postgresql://…")
    return DatabaseTarget(POSTGRESQL, text)
