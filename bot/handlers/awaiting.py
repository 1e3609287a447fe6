"""Typed answers to a question the bot just asked ("type a city", "type a time", "your note"), kept in the database.

The question is stored in the person's settings (``AWAITING``: what and when), so a restart in between loses
nothing and no button meaning lives in memory. ``on_text`` runs before the other text handlers (an earlier
handler group): it takes the text when a question is open and recent, and otherwise lets it through untouched.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import datetime, timedelta

from telegram import Message, Update
from telegram.ext import ApplicationHandlerStop, ContextTypes

from bot.services import Services, services_of
from storage.store import from_iso, to_iso

#: The settings key: {"what": one of ANSWERS' keys, "since": ISO time, ...what ``expect`` was given};
#: absent when no question is open.  One question at a time: asking a new one replaces the old.
AWAITING = "awaiting"
#: A question older than this is forgotten: a text much later is not an answer to it.
ANSWER_WITHIN = timedelta(minutes=15)
#: Questions that stay open longer (or shorter) than ANSWER_WITHIN, by name.
LIFETIMES: dict[str, timedelta] = {}

#: The handler group of :func:`on_text`: after dropping forged updates, before notes (-1) and free text (0).
HANDLER_GROUP = -2
#: What a typed answer does, by question; True when it was understood (the question is then closed).
Answer = Callable[[Services, Message, int, str], Awaitable[bool]]
ANSWERS: dict[str, Answer] = {}


async def expect(services: Services, user_id: int, what: str, now: datetime, **context: int | str) -> None:
    """Remember that the person's next text answers ``what`` (``context``: what the answer needs, e.g. a check-in)."""
    await services.store.update_settings(user_id, **{AWAITING: {**context, "what": what, "since": to_iso(now)}})


async def open_question(services: Services, user_id: int) -> dict:
    """The open question as ``expect`` stored it ({} when none)."""
    question = (await services.store.settings(user_id)).get(AWAITING)
    return question if isinstance(question, dict) else {}


async def stop_expecting(services: Services, user_id: int) -> None:
    """Close an open question (the person answered it some other way, e.g. with a button)."""
    if AWAITING in await services.store.settings(user_id):
        await services.store.update_settings(user_id, **{AWAITING: None})


async def on_text(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """A private text: the answer to an open question (and nothing else runs), or left to the other handlers."""
    message, user = update.effective_message, update.effective_user
    if message is None or user is None or not message.text:
        return
    services = services_of(context)
    question = await open_question(services, user.id)
    what = question.get("what")
    if what not in ANSWERS:
        return
    if services.clock() - from_iso(str(question.get("since"))) > LIFETIMES.get(what, ANSWER_WITHIN):
        await services.store.update_settings(user.id, **{AWAITING: None})
        return
    if await ANSWERS[what](services, message, user.id, message.text):
        await services.store.update_settings(user.id, **{AWAITING: None})
    raise ApplicationHandlerStop
