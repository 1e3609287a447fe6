"""Keyboards of /settings, the time-zone question and /remind (signed inline buttons, and the location request)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from enum import IntEnum

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, KeyboardButton, ReplyKeyboardMarkup

from bot.callback_data import Action, ButtonCodec, ButtonData
from bot.keyboards import _button, _rows
from bot.languages import language_choices
from bot.time_zones import CHOICES, choice_label
from dialogs import Dialogs
from dialogs.keys import SETTINGS_WEEKDAYS

#: The ``choice`` of the "Other…" zone button (one past the last of CHOICES).
OTHER_ZONE = len(CHOICES)
#: The ``minute`` that turns the reminder off, and the ``day`` that turns the weekly summary off.
REMINDER_OFF = 24 * 60
WEEKLY_OFF = 7
#: Reminder buttons: exact local times (minutes of the day), then windows (start minute, length in minutes).
REMINDER_TIMES: tuple[int, ...] = (8 * 60, 9 * 60, 12 * 60, 18 * 60, 20 * 60, 21 * 60, 22 * 60)
REMINDER_WINDOWS: tuple[tuple[int, int], ...] = ((9 * 60, 180), (18 * 60, 180))
#: The ``lang`` of "follow my Telegram app" (one past the last of bot.languages.language_choices()).
FOLLOW_TELEGRAM = len(language_choices())
#: How long check-ins may be kept, in days (0 = forever), with their dialog keys.
RETENTION_DAYS: dict[int, str] = {0: "settings.retention.forever", 365: "settings.retention.days_365",
                                  90: "settings.retention.days_90"}  # fmt: skip


class Section(IntEnum):
    """What a /settings button opens (its ``section`` on the wire)."""

    MENU = 0
    ZONE = 1
    REMINDER = 2
    RETENTION = 3
    WEEKLY = 4
    LANGUAGE = 5


#: The /settings menu's buttons: label key -> the section it opens.
MENU_SECTIONS: dict[str, Section] = {
    "settings.menu.zone_label": Section.ZONE,
    "settings.menu.reminder_label": Section.REMINDER,
    "settings.menu.retention_label": Section.RETENTION,
    "settings.menu.weekly_label": Section.WEEKLY,
    "settings.menu.language_label": Section.LANGUAGE,
}


def hhmm(minute: int) -> str:
    """A minute of the day as "08:30"."""
    return f"{minute // 60:02d}:{minute % 60:02d}"


def _back(codec: ButtonCodec, dialogs: Dialogs, user_id: int) -> list[InlineKeyboardButton]:
    data = ButtonData(Action.SETTINGS, section=Section.MENU)
    return [_button(codec, user_id, dialogs.text("settings.menu.back_label"), data)]


def menu(codec: ButtonCodec, dialogs: Dialogs, user_id: int) -> InlineKeyboardMarkup:
    """The /settings sections, two per row."""
    buttons = []
    for key, section in MENU_SECTIONS.items():
        buttons.append(_button(codec, user_id, dialogs.text(key), ButtonData(Action.SETTINGS, section=section)))
    return InlineKeyboardMarkup(_rows(buttons, 2))


def zones(
    codec: ButtonCodec, dialogs: Dialogs, user_id: int, now: datetime, *, back: bool = False
) -> InlineKeyboardMarkup:
    """The common zones, west to east with their offset now, three per row; then "Other…" (and "Back")."""
    buttons = [
        _button(codec, user_id, choice_label(choice, now), ButtonData(Action.ZONE, choice=index))
        for index, choice in enumerate(CHOICES)
    ]
    other_data = ButtonData(Action.ZONE, choice=OTHER_ZONE)
    other = _button(codec, user_id, dialogs.text("settings.zone.other_label"), other_data)
    rows = [*_rows(buttons, 3), [other]]
    return InlineKeyboardMarkup([*rows, _back(codec, dialogs, user_id)] if back else rows)


def location_request(dialogs: Dialogs) -> ReplyKeyboardMarkup:
    """A reply keyboard with Telegram's "share my location" button (private chats on phones offer it)."""
    button = KeyboardButton(dialogs.text("settings.zone.location_label"), request_location=True)
    return ReplyKeyboardMarkup([[button]], resize_keyboard=True, one_time_keyboard=True)


def reminders(codec: ButtonCodec, dialogs: Dialogs, user_id: int, *, back: bool = False) -> InlineKeyboardMarkup:
    """Common times (four per row), the random windows, "No reminder" (and "Back")."""
    times = [_button(codec, user_id, hhmm(m), ButtonData(Action.REMIND, minute=m, window=0)) for m in REMINDER_TIMES]
    windows = [
        _button(
            codec,
            user_id,
            dialogs.text("settings.remind.window_label", start=hhmm(start), end=hhmm(start + length)),
            ButtonData(Action.REMIND, minute=start, window=length),
        )
        for start, length in REMINDER_WINDOWS
    ]
    off = ButtonData(Action.REMIND, minute=REMINDER_OFF, window=0)
    rows = [*_rows(times, 4), windows, [_button(codec, user_id, dialogs.text("settings.remind.off_label"), off)]]
    return InlineKeyboardMarkup([*rows, _back(codec, dialogs, user_id)] if back else rows)


def retention(codec: ButtonCodec, dialogs: Dialogs, user_id: int) -> InlineKeyboardMarkup:
    """Forever, 1 year, 90 days; then "Back"."""
    buttons = []
    for days, key in RETENTION_DAYS.items():
        buttons.append(_button(codec, user_id, dialogs.text(key), ButtonData(Action.RETENTION, days=days)))
    return InlineKeyboardMarkup([buttons, _back(codec, dialogs, user_id)])


def weekly(codec: ButtonCodec, dialogs: Dialogs, user_id: int) -> InlineKeyboardMarkup:
    """The seven weekdays, "No summary", then "Back"."""
    days: Sequence[InlineKeyboardButton] = [
        _button(codec, user_id, dialogs.text(f"settings.weekdays.{key}"), ButtonData(Action.WEEKLY, day=index))
        for index, key in enumerate(SETTINGS_WEEKDAYS)
    ]
    off = _button(codec, user_id, dialogs.text("settings.weekly.off_label"), ButtonData(Action.WEEKLY, day=WEEKLY_OFF))
    return InlineKeyboardMarkup([*_rows(days, 4), [off], _back(codec, dialogs, user_id)])


def zone_done(
    codec: ButtonCodec, dialogs: Dialogs, user_id: int, markup: InlineKeyboardMarkup | None
) -> InlineKeyboardMarkup | None:
    """The zone question once answered: only "Back to settings" if it came from /settings, else no buttons."""
    back = dialogs.text("settings.menu.back_label")
    came_from_settings = markup is not None and any(b.text == back for row in markup.inline_keyboard for b in row)
    return InlineKeyboardMarkup([_back(codec, dialogs, user_id)]) if came_from_settings else None


def languages(codec: ButtonCodec, dialogs: Dialogs, user_id: int) -> InlineKeyboardMarkup:
    """Each language in its own name, "Follow my Telegram app", then "Back"."""
    buttons = [
        _button(codec, user_id, name, ButtonData(Action.LANGUAGE, lang=index))
        for index, (_, name) in enumerate(language_choices())
    ]
    follow = ButtonData(Action.LANGUAGE, lang=FOLLOW_TELEGRAM)
    auto = _button(codec, user_id, dialogs.text("settings.language.auto_label"), follow)
    return InlineKeyboardMarkup([buttons, [auto], _back(codec, dialogs, user_id)])
