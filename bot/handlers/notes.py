"""A short note on a check-in: "📝 Add a note", then the person's next text message becomes the note.

Where the pending note lives: in the person's settings (key ``note_pending``: the check-in id and an expiry),
not in memory, so a restart between the tap and the message loses nothing, and /forget (which deletes the person's
row) drops it with everything else.  A reply-to-the-prompt design (force_reply) would need the check-in id inside
the prompt, and Telegram gives bots no hidden data on a message; the settings need no migration and no new table.
The text handler runs in its own group before the other message handlers: with no note pending (or an expired
one) it lets the message through to them (free text, a typed time zone).
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta
from typing import Any

from telegram import CallbackQuery, Update
from telegram.ext import ApplicationHandlerStop, ContextTypes

from bot.callback_data import Action, ButtonData
from bot.handlers.presses import answer, stale
from bot.services import Services, services_of
from storage import MAX_NOTE, NotConsented

log = logging.getLogger(__name__)

#: The settings key of a note being waited for: {"checkin": id, "until": ISO time}.
PENDING_KEY = "note_pending"
#: How long after "Add a note" the next text message still becomes the note (then it is ordinary text again).
NOTE_WAIT = timedelta(minutes=30)
#: The handler group of :func:`on_text`: before group 0, where free text is answered.
HANDLER_GROUP = -1


def pending_checkin(settings: dict[str, Any], now: datetime) -> int | None:
    """The check-in a note is being waited for, or None (none asked for, expired, or unreadable)."""
    pending = settings.get(PENDING_KEY)
    try:
        if isinstance(pending, dict) and now <= datetime.fromisoformat(pending["until"]):
            return int(pending["checkin"])
    except (KeyError, TypeError, ValueError):
        log.warning("ignored an unreadable pending note")
    return None


async def _ask(services: Services, query: CallbackQuery, user_id: int, data: ButtonData) -> None:
    """ "Add a note": remember which check-in the next text is for, and ask for it."""
    assert data.checkin is not None
    store = services.store
    checkin = await store.get_checkin(user_id, data.checkin)
    if checkin is None or query.message is None:
        await stale(services, query)
        return
    await answer(query)
    until = (store.now() + NOTE_WAIT).isoformat()
    await store.update_settings(user_id, **{PENDING_KEY: {"checkin": checkin.id, "until": until}})
    dialogs = await services.dialogs_for(query.from_user)
    await query.message.chat.send_message(dialogs.text("mood.note_prompt", max=MAX_NOTE))


async def on_text(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """A text message while a note is pending becomes the note; otherwise the other handlers answer it."""
    message, user = update.effective_message, update.effective_user
    assert message is not None and user is not None and message.text is not None
    services = services_of(context)
    store = services.store
    settings = await store.settings(user.id)
    checkin_id = pending_checkin(settings, store.now())
    if checkin_id is None:
        if PENDING_KEY in settings:  # expired: forget it, and answer the text as any other
            await store.update_settings(user.id, **{PENDING_KEY: None})
        return
    dialogs = await services.dialogs_for(user)
    note = message.text.strip()
    if len(note) > MAX_NOTE:  # still pending: the person can send a shorter one
        await message.reply_text(dialogs.text("mood.note_too_long", length=len(note), max=MAX_NOTE), do_quote=True)
        raise ApplicationHandlerStop
    try:
        saved = await store.set_note(user.id, checkin_id, note)
    except NotConsented:
        saved = False
    await store.update_settings(user.id, **{PENDING_KEY: None})
    await message.reply_text(dialogs.text("mood.note_saved" if saved else "data_gone"), do_quote=True)
    raise ApplicationHandlerStop


ROUTES = {Action.NOTE: _ask}
