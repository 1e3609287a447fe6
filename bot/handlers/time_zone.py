"""The person's time zone: asked once after the first kept check-in, and from /timezone or /settings.

Three ways to answer: a button with a common zone, "Other…" and a typed city or zone name (also
``/timezone Lisbon``), or a shared location (private chats on phones), mapped offline to the nearest big
city's zone; the location itself is neither stored nor logged. Only the zone name is kept (settings "timezone").
"""

from __future__ import annotations

import logging
from zoneinfo import ZoneInfo

from telegram import CallbackQuery, Chat, Message, ReplyKeyboardRemove, Update
from telegram.constants import ChatType
from telegram.error import BadRequest
from telegram.ext import ContextTypes

from bot import settings_keyboards, weekly_summary
from bot.callback_data import ButtonData
from bot.handlers import awaiting
from bot.replies import clip
from bot.services import Services, services_of
from bot.time_zones import CHOICES, SETTING, nearest_zone, offset_label, parse_zone, suggestions
from dialogs import Dialogs

log = logging.getLogger(__name__)

#: The settings key remembering that the person was asked after their first check-in (asked once, not nagged).
ASKED = "timezone_asked"
#: The awaiting question of a typed zone (bot.handlers.awaiting).
TYPED = "zone"
#: A typed name is echoed back at most this long when it matched nothing.
MAX_ECHO = 40


async def ask(
    services: Services, chat: Chat, user_id: int, dialogs: Dialogs, *, first: bool = False, back: bool = False
) -> None:
    """The zone buttons; in a private chat also Telegram's "send my location" keyboard, as a second message."""
    markup = settings_keyboards.zones(services.codec, dialogs, user_id, services.clock(), back=back)
    question = dialogs.text("settings.zone.ask_first" if first else "settings.zone.ask")
    await chat.send_message(question, reply_markup=markup)
    if chat.type == ChatType.PRIVATE:
        hint = dialogs.text("settings.zone.location_hint")
        await chat.send_message(hint, reply_markup=settings_keyboards.location_request(dialogs))


async def ask_once(services: Services, chat: Chat, user_id: int, dialogs: Dialogs) -> None:
    """After a kept check-in: ask for the zone the first time only (not when set, or asked before)."""
    settings = await services.store.settings(user_id)
    if settings.get(SETTING) or settings.get(ASKED):
        return
    await services.store.update_settings(user_id, **{ASKED: True})
    await ask(services, chat, user_id, dialogs, first=True)


async def set_zone(services: Services, chat: Chat, user_id: int, zone: str, dialogs: Dialogs) -> None:
    """Keep the zone, move the person's reminder to it, and confirm with the local time (the location keyboard goes)."""
    await services.store.update_settings(user_id, **{SETTING: zone})
    await awaiting.stop_expecting(services, user_id)
    if services.reminders is not None:
        await services.reminders.refresh(user_id)
    await weekly_summary.refresh(services, user_id)  # on the chosen day in the new zone
    log.info("a person set their time zone")
    now = services.clock()
    local = now.astimezone(ZoneInfo(zone)).strftime("%H:%M")
    text = dialogs.text("settings.zone.set", zone=zone, offset=offset_label(zone, now), time=local)
    await chat.send_message(text, reply_markup=ReplyKeyboardRemove())


async def on_choice(services: Services, query: CallbackQuery, user_id: int, data: ButtonData) -> None:
    """A zone button: set it; "Other…": ask for a typed name."""
    assert data.choice is not None
    dialogs = await services.dialogs_for(query.from_user)
    if query.message is None or data.choice > len(CHOICES):
        await query.answer(dialogs.text("stale_button"))
        return
    chat = query.message.chat
    if data.choice == settings_keyboards.OTHER_ZONE:
        await awaiting.expect(services, user_id, TYPED, services.clock())
        await chat.send_message(dialogs.text("settings.zone.ask_typed"))
    else:
        await set_zone(services, chat, user_id, CHOICES[data.choice].zone, dialogs)
        menu = settings_keyboards.zone_done(services.codec, dialogs, user_id, query.message.reply_markup)
        try:  # the question keeps only its way back to /settings, if it had one
            await query.edit_message_reply_markup(reply_markup=menu)
        except BadRequest as exc:  # an old or unchanged message: the setting is what matters
            log.debug("edit skipped: %s", exc)
    await query.answer()  # after the change, so the spinner ends when the new state is shown


async def on_typed(services: Services, message: Message, user_id: int, text: str) -> bool:
    """A typed city or zone name (after "Other…"): set it, or say what was not found and suggest close names."""
    dialogs = await services.dialogs_for(message.from_user)
    zone = parse_zone(text)
    if zone is not None:
        await set_zone(services, message.chat, user_id, zone, dialogs)
        return True
    reply = dialogs.text("settings.zone.not_found", text=clip(text.strip(), MAX_ECHO))
    if close := suggestions(text):
        reply += "\n" + dialogs.text("settings.zone.did_you_mean", names=", ".join(close))
    await message.reply_text(reply)
    return False


awaiting.ANSWERS[TYPED] = on_typed


async def on_timezone_command(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """/timezone: the buttons; /timezone <city or zone>: set it directly."""
    message, user, chat = update.effective_message, update.effective_user, update.effective_chat
    assert message is not None and user is not None and chat is not None
    services = services_of(context)
    if context.args:
        await on_typed(services, message, user.id, " ".join(context.args))
        return
    await ask(services, chat, user.id, await services.dialogs_for(user))


async def on_location(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """A shared location: the zone of the nearest big city (the location itself is dropped here)."""
    message, user, chat = update.effective_message, update.effective_user, update.effective_chat
    assert message is not None and message.location is not None and user is not None and chat is not None
    zone = nearest_zone(message.location.latitude, message.location.longitude)
    services = services_of(context)
    await set_zone(services, chat, user.id, zone, await services.dialogs_for(user))
