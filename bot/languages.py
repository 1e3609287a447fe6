"""Which language a person is answered in, and how /settings changes it.

The "language" setting wins when it names a language we speak; otherwise Telegram's ``language_code`` of the
update ("es-MX" -> Spanish); otherwise English. Nothing is stored as "language" until the person picks one, so
someone who switches their Telegram app to another language is followed there.

Reminders and weekly summaries come without an update, so without a language_code: for them the last supported
code seen from the person is kept as "telegram_language", only for people who set a time zone or turned one of
those on (nothing is kept for anyone else; the zone comes first, so the press that turns a reminder on already
counts); /forget removes it with the rest.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from dialogs.i18n import ENGLISH, LANGUAGES, supported
from storage import Store

#: The settings key (see the settings contract): a code of dialogs.i18n.LANGUAGES; absent = follow Telegram.
SETTING = "language"
#: The last supported Telegram language_code seen, for messages sent without an update (see above).
TELEGRAM_SETTING = "telegram_language"
#: The settings (see the settings contract) of people who may get messages without an update.
SCHEDULED_SETTINGS: tuple[str, ...] = ("timezone", "reminder", "weekly_summary")


def language_of(settings: Mapping[str, Any], telegram_code: str | None) -> str:
    """The code of the language to answer in, from the person's settings and their Telegram language_code
    (None for a scheduled message: then the last one seen counts)."""
    chosen, seen = supported(settings.get(SETTING)), supported(settings.get(TELEGRAM_SETTING))
    return chosen or supported(telegram_code) or seen or ENGLISH


async def remember_telegram_language(
    store: Store, user_id: int, settings: Mapping[str, Any], telegram_code: str | None
) -> None:
    """Keep the update's language_code for scheduled messages, when it changed and the person has one turned on."""
    code = supported(telegram_code)
    scheduled = any(settings.get(key) is not None for key in SCHEDULED_SETTINGS)
    if scheduled and code is not None and settings.get(TELEGRAM_SETTING) != code:
        await store.update_settings(user_id, **{TELEGRAM_SETTING: code})


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
