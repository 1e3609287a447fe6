"""The callback-query router: verify the signed data, check ownership in the database, then act.

Every press is answered exactly once (answerCallbackQuery), with a polite text when the button is stale,
tampered with or refers to something that is no longer the person's.  The user id always comes from the
update, never from the button.
"""

from __future__ import annotations

import logging
import math
import time
from collections.abc import Awaitable, Callable

from telegram import CallbackQuery, Update
from telegram.constants import ChatType
from telegram.ext import ContextTypes

from bot import keyboards
from bot.callback_data import Action, ButtonData, ButtonError
from bot.flows import follow_up_checkin, send_items, send_offer, support_state
from bot.handlers import moods, notes, settings, time_zone
from bot.handlers.presses import answer as _answer
from bot.handlers.presses import quietly as _quietly
from bot.handlers.presses import stale as _stale
from bot.rate_limit import RateLimited
from bot.services import Services, services_of
from catalog import EMOTIONS
from storage import CheckIn, NotConsented

log = logging.getLogger(__name__)

#: The /forget confirmation button stops working after this many minutes.
FORGET_BUTTON_MINUTES = 10
#: "Keep my check-ins" under a reading keeps that reading only this long after the photo (a day).
CONSENT_READING_MINUTES = 24 * 60

Route = Callable[[Services, CallbackQuery, int, ButtonData], Awaitable[None]]


async def on_button(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Decode and dispatch one button press."""
    query, user, chat = update.callback_query, update.effective_user, update.effective_chat
    assert query is not None and user is not None
    services = services_of(context)
    dialogs = await services.dialogs_for(user)
    if chat is not None and chat.type != ChatType.PRIVATE:
        await _answer(query, dialogs.text("group_chat"))
        return
    try:
        await services.button_limiter.count(user.id)  # counts the press; nothing waits on it
    except RateLimited as exc:
        await _answer(query, dialogs.text("buttons_rate_limited", seconds=math.ceil(exc.retry_after)))
        return
    try:
        data = services.codec.decode(user.id, query.data)
    except ButtonError as exc:
        log.info("ignored a button press: %s", exc.reason)
        await _answer(query, dialogs.text("stale_button"))
        return
    await ROUTES[data.action](services, query, user.id, data)


async def _own_checkin(services: Services, query: CallbackQuery, user_id: int, data: ButtonData) -> CheckIn | None:
    """The pressing person's check-in the button refers to, with the press answered; None (answered as stale)
    when it is not theirs, is gone, or the button's message is."""
    assert data.checkin is not None
    checkin = await services.store.get_checkin(user_id, data.checkin)
    if checkin is None or query.message is None:
        await _stale(services, query)
        return None
    await _answer(query)
    return checkin


async def _kind(services: Services, query: CallbackQuery, user_id: int, data: ButtonData) -> None:
    assert data.kind is not None
    checkin = await _own_checkin(services, query, user_id, data)
    if checkin is None or query.message is None:
        return
    state = await support_state(services, user_id)
    await send_items(
        services,
        query.message.chat,
        user_id,
        checkin.id,
        data.kind,
        checkin.effective_emotion,
        supportive=state.supportive,
        dialogs=await services.dialogs_for(query.from_user),
        press_id=query.id,  # a redelivered press shows its first pick again
    )


async def _other(services: Services, query: CallbackQuery, user_id: int, data: ButtonData) -> None:
    checkin = await _own_checkin(services, query, user_id, data)
    if checkin is None or query.message is None:
        return
    state = await support_state(services, user_id)
    emotion = checkin.effective_emotion
    dialogs = await services.dialogs_for(query.from_user)
    await send_offer(
        services,
        query.message.chat,
        user_id,
        checkin.id,
        emotion,
        dialogs.offer(emotion),
        supportive=state.supportive,
        dialogs=dialogs,
    )


async def _not_now(services: Services, query: CallbackQuery, user_id: int, data: ButtonData) -> None:
    if await _own_checkin(services, query, user_id, data) is None:
        return
    await _quietly(query.edit_message_reply_markup(reply_markup=None))
    dialogs = await services.dialogs_for(query.from_user)
    await query.message.chat.send_message(dialogs.text("not_now"))


async def _not_quite(services: Services, query: CallbackQuery, user_id: int, data: ButtonData) -> None:
    if await _own_checkin(services, query, user_id, data) is None:
        return
    dialogs = await services.dialogs_for(query.from_user)
    markup = keyboards.corrections(services.codec, dialogs, user_id, data.checkin)
    await query.message.chat.send_message(dialogs.text("not_quite.prompt"), reply_markup=markup)


async def _correct(services: Services, query: CallbackQuery, user_id: int, data: ButtonData) -> None:
    assert data.checkin is not None and data.emotion is not None
    dialogs = await services.dialogs_for(query.from_user)
    if query.message is None or not await services.store.correct_checkin(user_id, data.checkin, data.emotion):
        await _stale(services, query)
        return
    saved = dialogs.text("correction_saved", label=dialogs.label(data.emotion))
    await _answer(query, saved)
    await _quietly(query.edit_message_text(saved))
    state = await support_state(services, user_id)
    await send_offer(
        services,
        query.message.chat,
        user_id,
        data.checkin,
        data.emotion,
        dialogs.offer(data.emotion),
        supportive=state.supportive,
        dialogs=dialogs,
    )


async def _feedback(services: Services, query: CallbackQuery, user_id: int, data: ButtonData) -> None:
    assert data.rec is not None and data.vote is not None
    dialogs = await services.dialogs_for(query.from_user)
    shown = next((r for r in await services.store.recommendations(user_id) if r.id == data.rec), None)
    if shown is None or not await services.store.set_feedback(user_id, shown.item_id, data.vote):
        await _stale(services, query)
        return
    await _answer(query, dialogs.text("followups.liked" if data.vote > 0 else "followups.disliked", rng=services.rng))
    message = query.message
    marked = keyboards.mark_vote(getattr(message, "reply_markup", None), query.data or "", data.vote, dialogs)
    if marked is not None:
        await _quietly(query.edit_message_reply_markup(reply_markup=marked))


async def _forget(services: Services, query: CallbackQuery, user_id: int, data: ButtonData) -> None:
    assert data.issued is not None
    if time.time() // 60 - data.issued > FORGET_BUTTON_MINUTES:
        await _stale(services, query)
        return
    dialogs = await services.dialogs_for(query.from_user)  # before the language setting goes with the rest
    rows = await services.store.forget(user_id)
    log.info("a person deleted their data (%d rows)", rows)
    await _answer(query)
    await _quietly(query.edit_message_text(dialogs.text("forgotten")))


async def _keep(services: Services, query: CallbackQuery, user_id: int, data: ButtonData) -> None:
    dialogs = await services.dialogs_for(query.from_user)  # before the answer: the edit follows it at once
    await _answer(query)
    await _quietly(query.edit_message_text(dialogs.text("forget_cancelled")))


async def _consent(services: Services, query: CallbackQuery, user_id: int, data: ButtonData) -> None:
    await services.store.set_consent(user_id)
    log.info("a person agreed to keep check-ins")
    dialogs = await services.dialogs_for(query.from_user)  # before the answer: the edit follows it at once
    await _answer(query)
    await _quietly(query.edit_message_reply_markup(reply_markup=None))
    if query.message is not None:
        await query.message.chat.send_message(dialogs.text("consent.given"))


async def _consent_reading(services: Services, query: CallbackQuery, user_id: int, data: ButtonData) -> None:
    """Agree, keep the reading the question came with, and go on as after any kept check-in."""
    assert data.issued is not None and data.reading is not None and data.faces is not None
    if query.message is None or time.time() // 60 - data.issued > CONSENT_READING_MINUTES:
        await _stale(services, query)
        return
    await _consent(services, query, user_id, data)
    emotion = max(zip(data.reading, EMOTIONS, strict=True))[1]
    try:
        checkin = await services.store.add_checkin(
            user_id, data.reading, emotion, faces=data.faces, message_id=query.message.message_id
        )
    except NotConsented:  # a /forget landed between the two writes: it wins
        return
    chat = query.message.chat
    dialogs = await services.dialogs_for(query.from_user)
    reading = query.message.reply_to_message  # the question is a reply to the reading: give it "Not quite"
    if reading is not None:
        markup = keyboards.not_quite(services.codec, dialogs, user_id, checkin)
        await _quietly(chat.get_bot().edit_message_reply_markup(chat.id, reading.message_id, reply_markup=markup))
    await follow_up_checkin(services, chat, user_id, checkin, data.reading, dialogs=dialogs)


async def _decline(services: Services, query: CallbackQuery, user_id: int, data: ButtonData) -> None:
    await services.store.set_consent(user_id, False)
    log.info("a person chose to keep no check-ins")
    dialogs = await services.dialogs_for(query.from_user)  # before the answer: the edit follows it at once
    await _answer(query)
    await _quietly(query.edit_message_text(dialogs.text("consent.declined")))


ROUTES: dict[Action, Route] = {
    Action.KIND: _kind,
    Action.MORE: _kind,
    Action.OTHER: _other,
    Action.NOT_NOW: _not_now,
    Action.NOT_QUITE: _not_quite,
    Action.CORRECT: _correct,
    Action.FEEDBACK: _feedback,
    Action.FORGET: _forget,
    Action.KEEP: _keep,
    Action.CONSENT: _consent,
    Action.CONSENT_READING: _consent_reading,
    Action.DECLINE: _decline,
    Action.ZONE: time_zone.on_choice,
    Action.SETTINGS: settings.on_section,
    Action.REMIND: settings.on_reminder,
    Action.RETENTION: settings.on_retention,
    Action.WEEKLY: settings.on_weekly,
    Action.LANGUAGE: settings.on_language,
    **moods.ROUTES,
    **notes.ROUTES,
}
