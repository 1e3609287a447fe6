"""A short note on a check-in: "📝 Add a note", then the person's next text message becomes the note.

The wait is an open question of bot.handlers.awaiting (in the person's settings, with the check-in id), so a
restart between the tap and the message loses nothing, /forget drops it with everything else, and asking
something else (a time zone, a time) replaces it: one question at a time.
"""

from __future__ import annotations

import logging
from datetime import timedelta

from telegram import CallbackQuery, Message

from bot.callback_data import Action, ButtonData
from bot.handlers import awaiting
from bot.handlers.presses import answer, stale
from bot.services import Services
from storage import MAX_NOTE, NotConsented

log = logging.getLogger(__name__)

#: The question's name in bot.handlers.awaiting.
NOTE = "note"
#: How long after "Add a note" the next text message still becomes the note (then it is ordinary text again).
NOTE_WAIT = timedelta(minutes=30)


async def _ask(services: Services, query: CallbackQuery, user_id: int, data: ButtonData) -> None:
    """ "Add a note": remember which check-in the next text is for, and ask for it."""
    assert data.checkin is not None
    store = services.store
    checkin = await store.get_checkin(user_id, data.checkin)
    if checkin is None or query.message is None:
        await stale(services, query)
        return
    await answer(query)
    await awaiting.expect(services, user_id, NOTE, services.clock(), checkin=checkin.id)
    dialogs = await services.dialogs_for(query.from_user)
    await query.message.chat.send_message(dialogs.text("mood.note_prompt", max=MAX_NOTE))


async def on_note(services: Services, message: Message, user_id: int, text: str) -> bool:
    """The text after "Add a note" becomes the note; too long, and the question stays open for a shorter one."""
    checkin_id = (await awaiting.open_question(services, user_id)).get("checkin")
    dialogs = await services.dialogs_for(message.from_user)
    note = text.strip()
    if len(note) > MAX_NOTE:
        await message.reply_text(dialogs.text("mood.note_too_long", length=len(note), max=MAX_NOTE), do_quote=True)
        return False
    try:
        saved = isinstance(checkin_id, int) and await services.store.set_note(user_id, checkin_id, note)
    except NotConsented:
        saved = False
    await message.reply_text(dialogs.text("mood.note_saved" if saved else "data_gone"), do_quote=True)
    return True


awaiting.ANSWERS[NOTE] = on_note
awaiting.LIFETIMES[NOTE] = NOTE_WAIT

ROUTES = {Action.NOTE: _ask}
