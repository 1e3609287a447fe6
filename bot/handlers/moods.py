"""Quick check-ins without a selfie: /mood, "✍️ Just tell me" under an unreadable photo, and the mood buttons.

The buttons (keyboards.quick_checkin) can go under any message, a reminder too: a press stores the picked mood
like a reading, marked self-reported, keyed by the message the buttons are under (so one prompt makes one
check-in), and goes on to the same offer as a reading.  For a person who has not agreed yet, the prompt turns
into the consent question and the mood travels in its "keep" button, as a reading does.
"""

from __future__ import annotations

import logging
import time

from telegram import CallbackQuery, Update
from telegram.ext import ContextTypes

from bot import keyboards
from bot.callback_data import Action, ButtonData
from bot.flows import follow_up_self_report
from bot.handlers.presses import answer, quietly, stale
from bot.services import Services, services_of
from storage import NotConsented

log = logging.getLogger(__name__)

#: "Keep my check-ins" under a quick check-in keeps its mood only this long after the pick (a day, as a reading).
CONSENT_MOOD_MINUTES = 24 * 60


async def on_mood(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """/mood: ask how the person feels, with one button per mood."""
    message, user = update.effective_message, update.effective_user
    assert message is not None and user is not None
    services = services_of(context)
    dialogs = await services.dialogs_for(user)
    markup = keyboards.quick_checkin(services.codec, dialogs, user.id)
    await message.reply_text(dialogs.text("mood.prompt"), reply_markup=markup)


async def _menu(services: Services, query: CallbackQuery, user_id: int, data: ButtonData) -> None:
    """ "Just tell me": the same question as /mood, as a new message."""
    if query.message is None:
        await stale(services, query)
        return
    await answer(query)
    dialogs = await services.dialogs_for(query.from_user)
    markup = keyboards.quick_checkin(services.codec, dialogs, user_id)
    await query.message.chat.send_message(dialogs.text("mood.prompt"), reply_markup=markup)


async def _pick(services: Services, query: CallbackQuery, user_id: int, data: ButtonData) -> None:
    """A mood button: keep the mood (or ask first), then the offer."""
    assert data.emotion is not None
    if query.message is None:
        await stale(services, query)
        return
    await answer(query)
    if await services.store.checkin_for_message(user_id, query.message.message_id) is not None:
        return  # a second tap before the buttons were replaced: this prompt already made its check-in
    try:
        checkin = await services.store.add_self_report(user_id, data.emotion, message_id=query.message.message_id)
    except NotConsented:
        await _ask_to_keep(services, query, user_id, data.emotion)
        return
    await _kept(services, query, user_id, checkin, "")


async def _ask_to_keep(services: Services, query: CallbackQuery, user_id: int, emotion: str) -> None:
    """Not agreed yet: the prompt becomes the consent question; or, for a person who said no, says so."""
    dialogs = await services.dialogs_for(query.from_user)
    if await services.store.declined(user_id):
        await quietly(query.edit_message_text(dialogs.text("consent.not_kept")))
        return
    markup = keyboards.consent_for_mood(services.codec, dialogs, user_id, emotion, int(time.time() // 60))
    await quietly(query.edit_message_text(dialogs.text("mood.consent_ask"), reply_markup=markup))


async def _consent_mood(services: Services, query: CallbackQuery, user_id: int, data: ButtonData) -> None:
    """Agree, keep the mood the question came with, and go on as after any kept quick check-in."""
    assert data.issued is not None and data.emotion is not None
    if query.message is None or time.time() // 60 - data.issued > CONSENT_MOOD_MINUTES:
        await stale(services, query)
        return
    await answer(query)
    await services.store.set_consent(user_id)
    log.info("a person agreed to keep check-ins")
    try:  # the question is the prompt itself, edited: the same message key as a direct pick
        checkin = await services.store.add_self_report(user_id, data.emotion, message_id=query.message.message_id)
    except NotConsented:  # a /forget landed between the two writes: it wins
        return
    dialogs = await services.dialogs_for(query.from_user)
    await _kept(services, query, user_id, checkin, dialogs.text("consent.given") + "\n\n")


async def _kept(services: Services, query: CallbackQuery, user_id: int, checkin_id: int, before: str) -> None:
    """The prompt says what was kept (with "Add a note"), then the offer for the stored mood."""
    assert query.message is not None
    dialogs = await services.dialogs_for(query.from_user)
    # The stored mood, not the pressed one: two taps racing each other both find the first check-in.
    checkin = await services.store.get_checkin(user_id, checkin_id)
    if checkin is None:  # forgotten in between
        return
    emotion = checkin.effective_emotion
    text = before + dialogs.text("mood.saved", label=dialogs.label(emotion))
    markup = keyboards.add_note(services.codec, dialogs, user_id, checkin.id)
    await quietly(query.edit_message_text(text, reply_markup=markup))
    await follow_up_self_report(services, query.message.chat, user_id, checkin.id, emotion, dialogs=dialogs)


ROUTES = {
    Action.MOOD_MENU: _menu,
    Action.MOOD: _pick,
    Action.CONSENT_MOOD: _consent_mood,
}
