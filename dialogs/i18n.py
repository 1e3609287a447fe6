"""The bot's languages: one set of dialog files per language, English the reference and the fallback.

English lives in ``dialogs/*.yaml``; each other language in ``dialogs/i18n/<code>/*.yaml`` with the same files and
keys. :func:`load_texts` reads them all at start-up: English must be complete (as before); a translation is checked
against the same table (shape, and only the placeholders the code passes) and a text it lacks falls back to
English, logged then as a warning naming the file and the key, never discovered at first use.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from types import MappingProxyType

from dialogs.loader import DEFAULT_FOLDER, Dialogs, _shown, load_dialogs

log = logging.getLogger(__name__)

ENGLISH = "en"
#: Every language the bot speaks, by code, with its name in itself (what a language menu shows).
LANGUAGES: Mapping[str, str] = MappingProxyType({"en": "English", "es": "Español", "ru": "Русский"})
#: Where the translations live, relative to the English folder.
I18N = "i18n"


def supported(code: str | None) -> str | None:
    """The supported language a Telegram ``language_code`` or a setting names ("es-MX", "ES_es" -> "es"), or None."""
    if not isinstance(code, str) or not code.strip():
        return None
    base = code.strip().replace("_", "-").split("-", 1)[0].lower()
    return base if base in LANGUAGES else None


@dataclass(frozen=True)
class Texts:
    """The dialogs of every language; :meth:`for_language` picks one, English for anything unknown."""

    by_language: Mapping[str, Dialogs]

    def __post_init__(self) -> None:
        """Keep the mapping read-only, and insist on English: it is every other language's fallback."""
        if ENGLISH not in self.by_language:
            raise ValueError("the English dialogs are required")
        object.__setattr__(self, "by_language", MappingProxyType(dict(self.by_language)))

    @property
    def english(self) -> Dialogs:
        """The reference set (``dialogs/*.yaml``)."""
        return self.by_language[ENGLISH]

    def for_language(self, code: str | None) -> Dialogs:
        """The dialogs for a language code ("es", "es-MX", None); English when it is not one we speak."""
        return self.by_language.get(supported(code) or ENGLISH, self.english)


def load_texts(folder: str | Path | None = None) -> Texts:
    """English from `folder` (default: the shipped dialogs), then each language of LANGUAGES from `folder`/i18n/<code>.

    Raises DialogError (listing every problem) for a broken English set or a broken translation; a missing
    translation file or key only logs a warning and uses English.
    """
    base = Path(folder) if folder is not None else DEFAULT_FOLDER
    english = load_dialogs(base)
    found = {ENGLISH: english}
    for code in LANGUAGES:
        if code == ENGLISH:
            continue
        where = base / I18N / code
        if not where.is_dir():
            log.warning("%s: no translation folder for %s; every text falls back to English", _shown(where), code)
        found[code] = load_dialogs(where, fallback=english)
    if (base / I18N).is_dir():
        for extra in sorted(p.name for p in (base / I18N).iterdir() if p.is_dir() and p.name not in LANGUAGES):
            log.warning("%s/%s: not a language the bot offers (add it to dialogs.i18n.LANGUAGES)", _shown(base), extra)
    return Texts(found)
