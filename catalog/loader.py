"""Load and validate the curated catalog (``movies.yaml``, ``songs.yaml``, ``books.yaml``, ``activities.yaml``)."""

from __future__ import annotations

import datetime as _dt
import logging
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from types import MappingProxyType
from typing import Any
from urllib.parse import quote_plus, urlsplit

import yaml

from catalog.models import EMOTIONS, ID_PREFIXES, INTENTS, KINDS, Item

log = logging.getLogger(__name__)

DEFAULT_FOLDER = Path(__file__).resolve().parent

#: Search-URL templates used when an item has no ``link``; ``{query}`` is filled with ``quote_plus`` text.
LINK_TEMPLATES: dict[str, str] = {
    "movies": "https://www.imdb.com/find/?q={query}&s=tt",
    "songs": "https://www.youtube.com/results?search_query={query}",
    "books": "https://openlibrary.org/search?q={query}",
}

_ID_RE = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")
_COMMON_KEYS = ("id", "title", "why", "emotions", "intents")
_REQUIRED: dict[str, tuple[str, ...]] = {
    "movies": (*_COMMON_KEYS, "creator", "year"),
    "songs": (*_COMMON_KEYS, "creator", "year"),
    "books": (*_COMMON_KEYS, "creator", "year"),
    "activities": (*_COMMON_KEYS, "minutes"),
}
_ALLOWED = frozenset({*_COMMON_KEYS, "creator", "year", "link", "minutes", "support", "heavy", "explicit"})
#: Kinds whose items may be marked ``explicit`` (lyrics).
_EXPLICIT_KINDS = frozenset({"songs"})
_MAX_WHY = 200
_MAX_MINUTES = 60
_MIN_YEAR = 1500


class CatalogError(ValueError):
    """A catalog file is missing or an item in it is invalid; the message names file, item and key."""

    def __init__(
        self,
        file: str,
        message: str,
        *,
        index: int | None = None,
        item_id: str | None = None,
        key: str | None = None,
    ) -> None:
        self.file = file
        self.index = index
        self.item_id = item_id
        self.key = key
        parts = [file]
        if index is not None:
            parts.append(f"item [{index}]" + (f" ({item_id})" if item_id else ""))
        if key is not None:
            parts.append(key)
        super().__init__(": ".join([*parts, message]))


_Fail = Callable[[str, str], CatalogError]  # builds an error for (key, message) of the item being parsed


@dataclass(frozen=True)
class Catalog:
    """All catalog items by id (read-only mapping, in file order)."""

    items: Mapping[str, Item]

    def __post_init__(self) -> None:
        """Store the items as a read-only mapping."""
        if not isinstance(self.items, MappingProxyType):
            object.__setattr__(self, "items", MappingProxyType(dict(self.items)))

    def by_kind(self, kind: str) -> tuple[Item, ...]:
        """Return the items of one kind, in file order."""
        if kind not in KINDS:
            raise ValueError(f"unknown kind {kind!r} (expected one of {', '.join(KINDS)})")
        return tuple(item for item in self.items.values() if item.kind == kind)

    def get(self, item_id: str) -> Item | None:
        """Return the item with this id, or None when there is none (e.g. a stale button)."""
        return self.items.get(item_id)

    def __len__(self) -> int:
        """Return the number of items."""
        return len(self.items)


def build_link(kind: str, title: str, creator: str | None, year: int | None) -> str | None:
    """Return a search URL for the item built from its title (and year or creator), or None for activities."""
    template = LINK_TEMPLATES.get(kind)
    if template is None:
        return None
    extra = year if kind == "movies" else creator
    query = f"{title} {extra}" if extra else title
    return template.format(query=quote_plus(query))


def load_catalog(folder: str | Path | None = None) -> Catalog:
    """Read and validate the four catalog YAML files; raise CatalogError on the first problem."""
    base = Path(folder) if folder is not None else DEFAULT_FOLDER
    items: dict[str, Item] = {}
    origin: dict[str, str] = {}
    for kind in KINDS:
        filename = f"{kind}.yaml"
        for index, item in enumerate(_load_file(base / filename, filename)):
            parsed = _parse_item(item, kind, filename, index)
            if parsed.id in items:
                raise CatalogError(
                    filename,
                    f"already used (first defined in {origin[parsed.id]})",
                    index=index,
                    item_id=parsed.id,
                    key="id",
                )
            items[parsed.id] = parsed
            origin[parsed.id] = filename
    log.info("catalog loaded: %s", ", ".join(f"{k}={sum(i.kind == k for i in items.values())}" for k in KINDS))
    return Catalog(items=MappingProxyType(items))


def _load_file(path: Path, filename: str) -> list[Any]:
    """Read one YAML file that must hold a non-empty list of items."""
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise CatalogError(filename, f"file not found in {path.parent}") from None
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" at line {mark.line + 1}" if mark is not None else ""
        raise CatalogError(filename, f"invalid YAML{where}: {getattr(exc, 'problem', exc)}") from None
    if not isinstance(data, list) or not data:
        raise CatalogError(filename, "must be a non-empty list of items")
    return data


def _parse_item(raw: Any, kind: str, filename: str, index: int) -> Item:
    """Validate one raw YAML item and turn it into an Item."""
    if not isinstance(raw, dict):
        raise CatalogError(filename, "must be a mapping", index=index)
    raw_id = raw.get("id")
    item_id = raw_id if isinstance(raw_id, str) else None

    def fail(key: str, message: str) -> CatalogError:
        return CatalogError(filename, message, index=index, item_id=item_id, key=key)

    for key in raw:
        if key not in _ALLOWED:
            raise fail(str(key), f"unknown key (allowed: {', '.join(sorted(_ALLOWED))})")
    for key in _REQUIRED[kind]:
        if key not in raw:
            raise fail(key, "missing")

    prefix = ID_PREFIXES[kind] + "-"
    if not isinstance(raw_id, str) or not _ID_RE.match(raw_id) or not raw_id.startswith(prefix):
        raise fail("id", f"must be a lowercase slug starting with {prefix!r}, e.g. '{prefix}my-title'")
    title = _text(raw["title"], fail, "title")
    why = _text(raw["why"], fail, "why")
    if len(why) > _MAX_WHY:
        raise fail("why", f"must be one short line (at most {_MAX_WHY} characters)")

    creator = raw.get("creator")
    if creator is not None or kind != "activities":
        creator = _text(creator, fail, "creator")
    year = raw.get("year")
    if year is not None or kind != "activities":
        this_year = _dt.date.today().year
        if not isinstance(year, int) or isinstance(year, bool) or not _MIN_YEAR <= year <= this_year:
            raise fail("year", f"must be an integer year between {_MIN_YEAR} and {this_year}")

    minutes = raw.get("minutes")
    if kind == "activities":
        if not isinstance(minutes, int) or isinstance(minutes, bool) or not 1 <= minutes <= _MAX_MINUTES:
            raise fail("minutes", f"must be an integer between 1 and {_MAX_MINUTES}")
    elif minutes is not None:
        raise fail("minutes", "only activities have minutes")

    emotions = _names(raw["emotions"], EMOTIONS, fail, "emotions", "emotion")
    intents = _names(raw["intents"], INTENTS, fail, "intents", "intent")

    support, heavy, explicit = (_flag(raw, key, fail) for key in ("support", "heavy", "explicit"))
    if explicit and kind not in _EXPLICIT_KINDS:
        raise fail("explicit", f"only {', '.join(sorted(_EXPLICIT_KINDS))} can be explicit")

    link = raw.get("link")
    if link is None:
        link = build_link(kind, title, creator, year)
    else:
        parts = urlsplit(link) if isinstance(link, str) else None
        if parts is None or parts.scheme != "https" or not parts.netloc or any(c.isspace() for c in link):
            raise fail("link", "must be an https:// URL without spaces")

    return Item(
        id=raw_id,
        kind=kind,
        title=title,
        creator=creator,
        year=year,
        why=why,
        emotions=emotions,
        intents=intents,
        link=link,
        minutes=minutes,
        support=support,
        heavy=heavy,
        explicit=explicit,
    )


def _flag(raw: dict[str, Any], key: str, fail: _Fail) -> bool:
    """An optional true/false key (absent = false)."""
    value = raw.get(key, False)
    if not isinstance(value, bool):
        raise fail(key, "must be true or false")
    return value


def _text(value: Any, fail: _Fail, key: str) -> str:
    """Return a stripped single-line non-empty string or raise."""
    if not isinstance(value, str) or not value.strip() or "\n" in value.strip():
        raise fail(key, "must be a non-empty single-line string")
    return value.strip()


def _names(value: Any, allowed: tuple[str, ...], fail: _Fail, key: str, what: str) -> tuple[str, ...]:
    """Return a tuple of distinct known names or raise."""
    if not isinstance(value, list) or not value:
        raise fail(key, f"must be a non-empty list of {what} names")
    for name in value:
        if name not in allowed:
            raise fail(key, f"unknown {what} {name!r} (expected one of {', '.join(allowed)})")
    if len(set(value)) != len(value):
        raise fail(key, f"lists the same {what} twice")
    return tuple(value)
