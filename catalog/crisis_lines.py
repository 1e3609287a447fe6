"""The table of crisis lines by country (catalog/crisis_lines.yaml) and which one fits a person.

A country is only ever implied, never asked: by the person's time zone first (an IANA name belongs to one country),
else by a language that belongs to one country in the table.  No country, no line: the support notice then names
findahelpline.com alone, as it always does.
"""

from __future__ import annotations

import functools
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import yaml

DEFAULT_PATH = Path(__file__).resolve().parent / "crisis_lines.yaml"
_KEYS = frozenset({"country", "name", "line", "source", "zones", "languages"})


@dataclass(frozen=True)
class CrisisLine:
    """One country's line: its ISO code, its name in a sentence, what to call or text, and where that is published."""

    country: str
    name: str
    line: str
    source: str
    zones: tuple[str, ...]
    languages: tuple[str, ...] = ()


class CrisisLinesError(ValueError):
    """The crisis line table is malformed; the message names the entry and the key."""


def load_crisis_lines(path: str | Path = DEFAULT_PATH) -> tuple[CrisisLine, ...]:
    """Read and check the table: known keys, an https source, real zones, no country, zone or language twice."""
    raw = yaml.safe_load(Path(path).read_text(encoding="utf-8"))
    if not isinstance(raw, list) or not raw:
        raise CrisisLinesError(f"{path}: must be a non-empty list of countries")
    lines = [_parse(entry, index) for index, entry in enumerate(raw)]
    for attribute in ("country", "zones", "languages"):
        seen: set[str] = set()
        for line in lines:
            values = getattr(line, attribute)
            for value in (values,) if isinstance(values, str) else values:
                if value in seen:
                    raise CrisisLinesError(f"{line.country}: {attribute} {value!r} is listed twice in the table")
                seen.add(value)
    return tuple(lines)


@functools.cache
def crisis_lines() -> tuple[CrisisLine, ...]:
    """The shipped table, read once."""
    return load_crisis_lines()


def crisis_line_for(lines: Sequence[CrisisLine], settings: Mapping[str, Any]) -> CrisisLine | None:
    """The line of the country the person's time zone (or else language) implies; None when none is implied."""
    zone, language = settings.get("timezone"), settings.get("language")
    by_zone = next((line for line in lines if zone in line.zones), None)
    return by_zone or next((line for line in lines if language and language in line.languages), None)


def _parse(entry: Any, index: int) -> CrisisLine:
    where = f"entry [{index}]"
    if not isinstance(entry, dict):
        raise CrisisLinesError(f"{where}: must be a mapping")
    where = f"{where} ({entry.get('country')})"
    for key in set(entry) - _KEYS:
        raise CrisisLinesError(f"{where}: unknown key {key!r} (allowed: {', '.join(sorted(_KEYS))})")
    texts = {}
    for key in ("country", "name", "line", "source"):
        value = entry.get(key)
        if not isinstance(value, str) or not value.strip():
            raise CrisisLinesError(f"{where}: {key} must be a non-empty string")
        texts[key] = value.strip()
    if len(texts["country"]) != 2 or not texts["country"].isupper():
        raise CrisisLinesError(f"{where}: country must be an ISO 3166 code such as 'DE'")
    source = urlsplit(texts["source"])
    if source.scheme != "https" or not source.netloc:
        raise CrisisLinesError(f"{where}: source must be an https:// page of the service")
    zones = _names(entry.get("zones"), where, "zones")
    if not zones:
        raise CrisisLinesError(f"{where}: zones must list at least one IANA time zone")
    for zone in zones:
        try:
            ZoneInfo(zone)
        except (ZoneInfoNotFoundError, ValueError):
            raise CrisisLinesError(f"{where}: unknown time zone {zone!r}") from None
    return CrisisLine(**texts, zones=zones, languages=_names(entry.get("languages", []), where, "languages"))


def _names(value: Any, where: str, key: str) -> tuple[str, ...]:
    if not isinstance(value, list) or not all(isinstance(v, str) and v for v in value):
        raise CrisisLinesError(f"{where}: {key} must be a list of names")
    return tuple(value)
