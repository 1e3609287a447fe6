"""/remind: a daily check-in reminder at a local time (buttons, a typed "21:30", or "/remind 21:30"), or off.

The buttons also sit in /settings; sending is bot.reminders' job.
"""

from __future__ import annotations

import logging

from telegram import Message, Update
from telegram.ext import ContextTypes

from bot import settings_keyboards
from bot.handlers import awaiting
from bot.reminders import SETTING, Reminder, parse_time
from bot.services import Services, services_of
from bot.settings_keyboards import hhmm
from bot.time_zones import zone_name
from dialogs import Dialogs

log = logging.getLogger(__name__)

#: The awaiting question of a typed time (bot.handlers.awaiting).
TYPED = "reminder"
#: What turns the reminder off when typed after /remind.
OFF_WORDS = frozenset({"off", "no", "none", "stop"})


async def set_reminder(services: Services, user_id: int, dialogs: Dialogs, minute: int | None, window: int = 0) -> str:
    """Save the reminder (None: off), reschedule it, and return the confirmation to show."""
    value = None if minute is None else Reminder(minute, window).as_setting()
    settings = await services.store.update_settings(user_id, **{SETTING: value})
    await awaiting.stop_expecting(services, user_id)
    if services.reminders is not None:
        await services.reminders.refresh(user_id)
    log.info("a person turned their reminder %s", "off" if minute is None else "on")
    if minute is None:
        return dialogs.text("settings.remind.set_off")
    if window:
        until = hhmm((minute + window) % (24 * 60))
        words = dialogs.text("settings.remind.between", time=hhmm(minute), until=until)
    else:
        words = dialogs.text("settings.remind.at", time=hhmm(minute))
    return dialogs.text("settings.remind.set", value=words, zone=zone_name(settings))


async def on_typed(services: Services, message: Message, user_id: int, text: str) -> bool:
    """A typed time (or "off") after /remind; anything else is explained and the question stays open."""
    dialogs = await services.dialogs_for(message.from_user)
    word = text.strip().lower()
    minute = parse_time(word)
    if minute is None and word not in OFF_WORDS:
        await message.reply_text(dialogs.text("settings.remind.not_understood"))
        return False
    await message.reply_text(await set_reminder(services, user_id, dialogs, minute))
    return True


awaiting.ANSWERS[TYPED] = on_typed


async def on_remind(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """/remind: the choices (a typed time works too); /remind 21:30 or /remind off: set it directly."""
    message, user = update.effective_message, update.effective_user
    assert message is not None and user is not None
    services = services_of(context)
    if context.args:
        await on_typed(services, message, user.id, " ".join(context.args))
        return
    dialogs = await services.dialogs_for(user)
    zone = zone_name(await services.store.settings(user.id))
    markup = settings_keyboards.reminders(services.codec, dialogs, user.id)
    await message.reply_text(dialogs.text("settings.remind.prompt", zone=zone), reply_markup=markup)
    await awaiting.expect(services, user.id, TYPED, services.clock())
