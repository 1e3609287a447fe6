"""/settings: time zone, reminder, how long check-ins are kept, the weekly summary and the language, as buttons.

The menu message shows the current values; each section replaces it with its choices (and a way back), and a
choice saves the setting and shows the menu again with the new value. Every choice takes effect at once:
a shorter retention deletes older check-ins right away, a reminder is rescheduled.
"""

from __future__ import annotations

import logging
from typing import Any

from telegram import CallbackQuery, InlineKeyboardMarkup, Update
from telegram.error import BadRequest
from telegram.ext import ContextTypes

from bot import retention, settings_keyboards, weekly_summary
from bot.callback_data import ButtonData
from bot.handlers import time_zone
from bot.handlers.reminders import set_reminder
from bot.languages import SETTING as LANGUAGE
from bot.languages import language_choices, language_of, set_language
from bot.reminders import reminder_of
from bot.services import Services, services_of
from bot.settings_keyboards import FOLLOW_TELEGRAM, REMINDER_OFF, RETENTION_DAYS, WEEKLY_OFF, Section, hhmm
from bot.time_zones import offset_label, zone_name
from dialogs import Dialogs
from dialogs.i18n import LANGUAGES
from dialogs.keys import SETTINGS_WEEKDAYS

log = logging.getLogger(__name__)

#: The settings key of the weekly summary's day (0 = Monday); absent = off.
WEEKLY = "weekly_summary"


def reminder_words(dialogs: Dialogs, settings: dict[str, Any]) -> str:
    """ "every day at 21:00", "every day between 18:00 and 21:00" or "off"."""
    reminder = reminder_of(settings)
    if reminder is None:
        return dialogs.text("settings.remind.off")
    if reminder.window:
        end = (reminder.minute + reminder.window) % (24 * 60)
        return dialogs.text("settings.remind.between", time=hhmm(reminder.minute), until=hhmm(end))
    return dialogs.text("settings.remind.at", time=hhmm(reminder.minute))


def weekly_words(dialogs: Dialogs, settings: dict[str, Any]) -> str:
    """ "on Sunday" or "off"."""
    day = settings.get(WEEKLY)
    if not isinstance(day, int) or not 0 <= day < len(SETTINGS_WEEKDAYS):
        return dialogs.text("settings.weekly.off")
    return dialogs.text("settings.weekly.on_day", day=dialogs.text(f"settings.weekdays.{SETTINGS_WEEKDAYS[day]}"))


def language_words(dialogs: Dialogs, settings: dict[str, Any], telegram_code: str | None) -> str:
    """The language answered in, by its own name ("Español"), and whether it only follows the Telegram app."""
    name = LANGUAGES[language_of(settings, telegram_code)]
    return name if settings.get(LANGUAGE) else dialogs.text("settings.language.auto", name=name)


def menu_text(services: Services, dialogs: Dialogs, settings: dict[str, Any], telegram_code: str | None) -> str:
    """The menu with the current values."""
    zone = zone_name(settings)
    return dialogs.text(
        "settings.menu.text",
        zone=f"{zone} ({offset_label(zone, services.clock())})",
        reminder=reminder_words(dialogs, settings),
        retention=dialogs.text(RETENTION_DAYS.get(retention.days_of(settings) or 0, "settings.retention.forever")),
        weekly=weekly_words(dialogs, settings),
        language=language_words(dialogs, settings, telegram_code),
    )


async def on_settings(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """/settings: the menu."""
    message, user = update.effective_message, update.effective_user
    assert message is not None and user is not None
    services = services_of(context)
    dialogs = await services.dialogs_for(user)
    text = menu_text(services, dialogs, await services.store.settings(user.id), user.language_code)
    await message.reply_text(text, reply_markup=settings_keyboards.menu(services.codec, dialogs, user.id))


async def _edit(query: CallbackQuery, text: str, markup: InlineKeyboardMarkup) -> None:
    try:
        await query.edit_message_text(text, reply_markup=markup)
    except BadRequest as exc:  # unchanged (a double tap) or too old to edit: the setting is saved anyway
        log.debug("edit skipped: %s", exc)


async def show_menu(
    services: Services, query: CallbackQuery, user_id: int, dialogs: Dialogs, done: str | None = None
) -> None:
    """Replace the pressed message with the menu (after ``done``, the confirmation of a change)."""
    text = menu_text(services, dialogs, await services.store.settings(user_id), query.from_user.language_code)
    markup = settings_keyboards.menu(services.codec, dialogs, user_id)
    await _edit(query, f"{done}\n\n{text}" if done else text, markup)


async def on_section(services: Services, query: CallbackQuery, user_id: int, data: ButtonData) -> None:
    """A menu button: show that section's choices (or the menu again)."""
    dialogs, codec = await services.dialogs_for(query.from_user), services.codec
    if query.message is None or data.section not in set(Section):
        await query.answer(dialogs.text("stale_button"))
        return
    section = Section(data.section)
    if section == Section.MENU:
        await show_menu(services, query, user_id, dialogs)
    elif section == Section.ZONE:
        await time_zone.ask(services, query.message.chat, user_id, dialogs, back=True)
    elif section == Section.REMINDER:
        zone = zone_name(await services.store.settings(user_id))
        markup = settings_keyboards.reminders(codec, dialogs, user_id, back=True)
        await _edit(query, dialogs.text("settings.remind.prompt", zone=zone), markup)
    elif section == Section.RETENTION:
        markup = settings_keyboards.retention(codec, dialogs, user_id)
        await _edit(query, dialogs.text("settings.retention.prompt"), markup)
    elif section == Section.LANGUAGE:
        markup = settings_keyboards.languages(codec, dialogs, user_id)
        await _edit(query, dialogs.text("settings.language.prompt"), markup)
    else:
        await _edit(query, dialogs.text("settings.weekly.prompt"), settings_keyboards.weekly(codec, dialogs, user_id))
    await query.answer()  # after the change, so the spinner ends when the new state is shown


async def on_retention(services: Services, query: CallbackQuery, user_id: int, data: ButtonData) -> None:
    """Keep check-ins forever, a year or 90 days; older ones go at once."""
    dialogs = await services.dialogs_for(query.from_user)
    if data.days not in RETENTION_DAYS:
        await query.answer(dialogs.text("stale_button"))
        return
    await services.store.update_settings(user_id, **{retention.SETTING: data.days or None})
    deleted = await retention.apply(services, user_id)
    log.info("a person changed how long check-ins are kept (%d deleted)", deleted)
    kept = dialogs.text(RETENTION_DAYS.get(data.days, "settings.retention.forever"))
    done = dialogs.text("settings.retention.set", retention=kept)
    if deleted:
        done += " " + dialogs.text("settings.retention.deleted", count=deleted)
    await show_menu(services, query, user_id, dialogs, done)
    await query.answer()


async def on_weekly(services: Services, query: CallbackQuery, user_id: int, data: ButtonData) -> None:
    """The weekly summary's day, or off."""
    dialogs = await services.dialogs_for(query.from_user)
    if data.day is None or not 0 <= data.day <= WEEKLY_OFF:
        await query.answer(dialogs.text("stale_button"))
        return
    settings = await services.store.update_settings(user_id, **{WEEKLY: None if data.day == WEEKLY_OFF else data.day})
    await weekly_summary.refresh(services, user_id)  # the row every worker's tick reads
    done = dialogs.text("settings.weekly.set", value=weekly_words(dialogs, settings))
    await show_menu(services, query, user_id, dialogs, done)
    await query.answer()


async def on_reminder(services: Services, query: CallbackQuery, user_id: int, data: ButtonData) -> None:
    """A reminder button (from /remind or /settings): set it or turn it off, then confirm."""
    dialogs = await services.dialogs_for(query.from_user)
    if data.minute is None or data.window is None or not 0 <= data.minute <= REMINDER_OFF:
        await query.answer(dialogs.text("stale_button"))
        return
    minute = None if data.minute == REMINDER_OFF else data.minute
    done = await set_reminder(services, user_id, dialogs, minute, data.window)
    await show_menu(services, query, user_id, dialogs, done)
    await query.answer()


async def on_language(services: Services, query: CallbackQuery, user_id: int, data: ButtonData) -> None:
    """A language (or "follow my Telegram app"): saved, and the menu comes back in that language."""
    choices = language_choices()
    if data.lang is None or not 0 <= data.lang <= FOLLOW_TELEGRAM:
        await query.answer((await services.dialogs_for(query.from_user)).text("stale_button"))
        return
    await set_language(services.store, user_id, None if data.lang == FOLLOW_TELEGRAM else choices[data.lang][0])
    dialogs = await services.dialogs_for(query.from_user)  # the new language from here on
    settings = await services.store.settings(user_id)
    name = language_words(dialogs, settings, query.from_user.language_code)
    await show_menu(services, query, user_id, dialogs, dialogs.text("settings.language.set", name=name))
    await query.answer()
