"""The texts the code sends: one entry per dotted key, with the ``{fields}`` the code passes and the text's shape.

This table is the one list both sides read. ``load_dialogs`` checks the YAML files against it at start-up (every
key present, of the right shape, using no field the code does not pass) and ``Dialogs.text`` refuses a key that
is not here or fields that differ from its entry, so the table cannot drift from the code in either direction.
tests/test_dialog_keys.py scans bot/ for keys missing here. A new text is one line here, in the change that sends
it; keys of ``common.yaml`` are written ``common.<key>`` here but may be sent without the prefix.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from enum import Enum
from types import MappingProxyType

from catalog.models import KINDS, MOODS

#: Longest button or menu label we accept (Telegram cuts long button texts short on phones).
MAX_LABEL = 64


class Shape(Enum):
    """What a key's YAML value must be; each value is how an error describes it ("must be …")."""

    VARIANTS = "a string or a non-empty list of strings (variants, one picked at random)"
    LIST = "a non-empty list of strings (variants, one picked at random)"
    ONE = "one string (the code shows it as is, so no variants)"
    LABEL = f"a one-line string of at most {MAX_LABEL} characters"
    BUTTONS = "a non-empty list of {offer, label} mappings"


@dataclass(frozen=True)
class TextSpec:
    """One text the code sends: the fields it always passes (texts may use any of them) and its shape."""

    fields: frozenset[str]
    shape: Shape


def _text(*fields: str, shape: Shape = Shape.VARIANTS) -> TextSpec:
    return TextSpec(frozenset(fields), shape)


# Labels go on buttons and in menus: single strings, because mark_vote finds a pressed 👍 by its label.
_LABEL = _text(shape=Shape.LABEL)

#: The command menu (bot.app.COMMANDS) and the /history periods (bot.handlers.history.PERIODS), whose texts are
#: looked up by name; tests/test_dialog_keys.py checks both lists against the code.
MENU_COMMANDS: tuple[str, ...] = (
    "start", "help", "privacy", "mood", "history", "remind", "settings", "export", "forget"
)
HISTORY_PERIODS: tuple[str, ...] = ("7d", "30d", "all")

#: The month and weekday tables of dialogs/history.yaml (calendar order, Monday first): dates follow the language
#: from the YAML, never from the system locale.
MONTH_KEYS: tuple[str, ...] = ("jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec")
WEEKDAY_KEYS: tuple[str, ...] = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
#: The trend sentences of /history (bot.history_chart.Trend.direction), each with the shares behind it.
TREND_DIRECTIONS: tuple[str, ...] = ("brighter", "lower", "steady")
TREND_FIELDS: tuple[str, ...] = ("positive_before", "positive_after", "negative_before", "negative_after")

#: What bot.replies.item_text passes for every catalog item, whatever its kind uses.
ITEM_FIELDS: tuple[str, ...] = ("title", "creator", "year", "why", "minutes", "link")

_COMMON: dict[str, TextSpec] = {
    "welcome": _text(),
    "privacy": _text(),
    "help": _text(),
    **{f"commands.{name}": _LABEL for name in MENU_COMMANDS},
    "no_face": _text(),
    "face_too_small": _text(),
    "uncertain": _text(),
    "unreadable_image": _text(),
    "too_large": _text("max_mb"),
    "not_an_image": _text(),
    "sticker": _text(),
    "video": _text(),
    "voice": _text(),
    "group_chat": _text(),
    "unknown_command": _text(),
    "free_text": _text(),
    "rate_limited": _text("seconds"),
    "buttons_rate_limited": _text("seconds"),
    "export_rate_limited": _text("seconds"),
    "not_now": _text(),
    "stale_button": _text(),
    "error": _text(),
    "more_label": _LABEL,
    "other_ideas_label": _LABEL,
    "like_label": _LABEL,
    "dislike_label": _LABEL,
    "not_quite.label": _LABEL,
    "not_quite.prompt": _text(),
    "correction_saved": _text("label"),
    "forget_confirm.text": _text(),
    "forget_confirm.confirm": _LABEL,
    "forget_confirm.cancel": _LABEL,
    "forgotten": _text(),
    "forget_cancelled": _text(),
    "consent.ask": _text(),
    "consent.keep_reading_label": _LABEL,
    "consent.keep_label": _LABEL,
    "consent.decline_label": _LABEL,
    "consent.withdraw_label": _LABEL,
    "consent.given": _text(),
    "consent.declined": _text(),
    "consent.not_kept": _text(),
    "data_gone": _text(),
    "export_empty": _text(),
    "export_caption": _text(),
    "history_usage": _text(),
    # bot.handlers.history.summary_text passes both fields to both headers; the "one" header needs no count.
    "history_header": _text("period", "count"),
    "history_header_one": _text("period", "count"),
    "history_empty": _text("period"),
    "history_rate_limited": _text("seconds"),
    "history_most_often": _text("label"),
    "history_disclaimer": _text(),
    **{f"history_periods.{period}": _text() for period in HISTORY_PERIODS},
    "support_notice": _text(),
    "support_line": _text("country", "line"),  # under the notice when a country is implied (bot/support_notice.py)
    "reading.single": _text("emotion", "share"),
    "reading.faces_header": _text("count"),
    "reading.face": _text("emotion", "share"),
    "reading.more_faces": _text("count"),
    "reading.following": _text("count"),
    "reading.none_readable": _text("count"),
    "reading.face_too_dark": _text(),
    "reading.face_too_blurred": _text(),
}

_FOLLOWUPS: dict[str, TextSpec] = {
    **{f"chosen.{kind}": _text() for kind in KINDS},
    **{f"item.{kind}": _text(*ITEM_FIELDS) for kind in KINDS},
    **{f"open_label.{kind}": _LABEL for kind in KINDS},
    "supportive_intro": _text(),
    "explicit": _text(),  # under an item with explicit lyrics (bot/replies.item_text)
    "pool_restarted": _text(),
    "nothing_left": _text(),
    "after_items": _text(),
    "liked": _text(),
    "disliked": _text(),
}


# /history's days (bot/history_calendar.py): streaks, weekday leanings and the calendar picture's words.
_HISTORY: dict[str, TextSpec] = {
    "streaks": _text("current", "longest"),
    "weekdays": _text("leanings"),
    "weekday_leaning": _text("weekday", "emotion", shape=Shape.ONE),
    "weekdays_too_few": _text("count"),
    "weekdays_even": _text(),
    "weekly_intro": _text(),
    "weekly_empty": _text(),
    "calendar_title": _text("period", shape=Shape.ONE),
    "trend_too_few": _text("count"),
    "chart_title": _text("period", shape=Shape.ONE),
    "chart_low": _LABEL,
    "chart_neutral": _LABEL,
    "chart_bright": _LABEL,
    "chart_time": _text("zone", shape=Shape.ONE),
    "chart_average": _LABEL,
    **{f"trend.{direction}": _text(*TREND_FIELDS) for direction in TREND_DIRECTIONS},
    "other_emotion": _LABEL,
    "no_checkin": _LABEL,
    **{f"months.{key}": _LABEL for key in MONTH_KEYS},
    **{f"months_short.{key}": _LABEL for key in MONTH_KEYS},
    **{f"weekdays_short.{key}": _LABEL for key in WEEKDAY_KEYS},
    **{f"weekdays_many.{key}": _LABEL for key in WEEKDAY_KEYS},
}

# Each mood's plain name inside a sentence ("looks mostly {emotion}"), in the language of the sentence.
_NAMES: dict[str, TextSpec] = {emotion: _LABEL for emotion in MOODS}


# /settings, the time zone and reminders (dialogs/settings.yaml).
SETTINGS_WEEKDAYS: tuple[str, ...] = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
_SETTINGS: dict[str, TextSpec] = {
    "zone.ask": _text(),
    "zone.ask_first": _text(),
    "zone.location_hint": _text(),
    "zone.location_label": _LABEL,
    "zone.other_label": _LABEL,
    "zone.ask_typed": _text(),
    "zone.set": _text("zone", "offset", "time"),
    "zone.not_found": _text("text"),
    "zone.did_you_mean": _text("names"),
    "menu.text": _text("zone", "reminder", "retention", "weekly", "language"),
    "menu.zone_label": _LABEL,
    "menu.reminder_label": _LABEL,
    "menu.retention_label": _LABEL,
    "menu.weekly_label": _LABEL,
    "menu.back_label": _LABEL,
    "menu.language_label": _LABEL,
    "language.prompt": _text(),
    "language.auto_label": _LABEL,
    "language.auto": _text("name", shape=Shape.ONE),
    "language.set": _text("name"),
    "retention.prompt": _text(),
    "retention.forever": _LABEL,
    "retention.days_365": _LABEL,
    "retention.days_90": _LABEL,
    "retention.set": _text("retention"),
    "retention.deleted": _text("count"),
    "weekly.prompt": _text(),
    "weekly.off": _LABEL,
    "weekly.on_day": _text("day", shape=Shape.ONE),
    "weekly.off_label": _LABEL,
    "weekly.set": _text("value"),
    **{f"weekdays.{day}": _LABEL for day in SETTINGS_WEEKDAYS},
    "remind.prompt": _text("zone"),
    "remind.window_label": _text("start", "end", shape=Shape.LABEL),
    "remind.off_label": _LABEL,
    "remind.off": _LABEL,
    "remind.at": _text("time", shape=Shape.ONE),
    "remind.between": _text("time", "until", shape=Shape.ONE),
    "remind.set": _text("value", "zone"),
    "remind.set_off": _text(),
    "remind.not_understood": _text(),
    "remind.text": _text(),
}


# Quick check-ins without a selfie (/mood, "Just tell me") and notes on check-ins: bot/handlers/moods.py, notes.py.
_MOOD: dict[str, TextSpec] = {
    "prompt": _text(),
    "just_tell_me_label": _LABEL,
    "saved": _text("label"),
    "consent_ask": _text(),
    "note_label": _LABEL,
    "note_prompt": _text("max"),
    "note_too_long": _text("length", "max"),
    "note_saved": _text(),
}


def _emotion(emotion: str) -> dict[str, TextSpec]:
    """What Dialogs reads for one emotion: the openers always get ``share``; the offer is shown under them as is."""
    return {
        f"{emotion}.label": _LABEL,
        f"{emotion}.lines": _text("share", shape=Shape.LIST),
        f"{emotion}.offer": _text(shape=Shape.ONE),
        f"{emotion}.buttons": _text(shape=Shape.BUTTONS),
    }


def _in_flow(flow: str, texts: Mapping[str, TextSpec]) -> dict[str, TextSpec]:
    return {f"{flow}.{key}": spec for key, spec in texts.items()}


#: Every text the code sends, by dotted key ``<file stem>.<key path>``.
TEXTS: Mapping[str, TextSpec] = MappingProxyType(
    {
        **_in_flow("common", _COMMON),
        **_in_flow("followups", _FOLLOWUPS),
        **_in_flow("history", _HISTORY),
        **_in_flow("names", _NAMES),
        **_in_flow("settings", _SETTINGS),
        **_in_flow("emotions", {k: v for emotion in MOODS for k, v in _emotion(emotion).items()}),
        **_in_flow("mood", _MOOD),
        **_in_flow("export", {"json_caption": _text()}),  # /export's second file (bot/handlers/data_rights.py)
    }
)


def qualify(key: str) -> str:
    """The table key for ``key`` as the code writes it: itself, or ``common.<key>`` (e.g. "welcome")."""
    return key if key in TEXTS else f"common.{key}"
