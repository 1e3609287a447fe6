"""Which language a person is answered in, and how /settings changes it.

The "language" setting wins when it names a language we speak; otherwise Telegram's ``language_code`` of the
update ("es-MX" -> Spanish); otherwise English. Nothing is stored until the person picks a language, so someone who
switches their Telegram app to another language is followed there.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from dialogs.i18n import ENGLISH, LANGUAGES, supported
from storage import Store

#: The settings key (see the settings contract): a code of dialogs.i18n.LANGUAGES; absent = follow Telegram.
SETTING = "language"


def language_of(settings: Mapping[str, Any], telegram_code: str | None) -> str:
    """The code of the language to answer in, from the person's settings and their Telegram language_code."""
    return supported(settings.get(SETTING)) or supported(telegram_code) or ENGLISH


def language_choices() -> list[tuple[str, str]]:
    """(code, native name) of every language, English first: what a language menu offers."""
    return list(LANGUAGES.items())


async def set_language(store: Store, user_id: int, code: str | None) -> str | None:
    """Store the person's language ("es", "es-MX"); ``None`` forgets the choice (follow Telegram again).

    Returns the stored code (or None); raises ValueError for a language we do not speak.
    """
    if code is None:
        await store.update_settings(user_id, **{SETTING: None})
        return None
    chosen = supported(code)
    if chosen is None:
        raise ValueError(f"unsupported language {code!r}; expected one of {', '.join(LANGUAGES)}")
    await store.update_settings(user_id, **{SETTING: chosen})
    return chosen
