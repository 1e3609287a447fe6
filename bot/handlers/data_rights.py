"""/export (everything stored about the person, as CSV and JSON) and /forget (delete it all, after a confirm button)."""

from __future__ import annotations

import asyncio
import logging
import time

from telegram import Update
from telegram.constants import ChatAction
from telegram.ext import ContextTypes

from bot import keyboards, time_zones
from bot.export_json import export_json, local_iso
from bot.handlers.guards import admit_or_explain, show_chat_action
from bot.services import services_of

log = logging.getLogger(__name__)


async def on_export(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Send the person's check-ins and recommendations as a CSV document, then the same as JSON with titles."""
    services = services_of(context)
    message, user, chat = update.effective_message, update.effective_user, update.effective_chat
    assert message is not None and user is not None and chat is not None
    dialogs = await services.dialogs_for(user)
    ticket = await admit_or_explain(services.export_limiter, user.id, message, dialogs, "export_rate_limited")
    if ticket is None:
        return
    store = services.store
    async with ticket:
        data = await store.export_csv(user.id)
        if len(data.strip().splitlines()) <= 1:  # the header alone: nothing stored
            await message.reply_text(dialogs.text("export_empty"))
            return
        settings = await store.settings(user.id)
        zone_name, zone = time_zones.zone_name(settings), time_zones.zone_of(settings)
        now = services.clock()
        checkins, recommendations = await store.checkins(user.id), await store.recommendations(user.id)
        as_json = await asyncio.to_thread(
            export_json, checkins, recommendations, services.catalog, zone_name, zone, now
        )
    await show_chat_action(chat, ChatAction.UPLOAD_DOCUMENT)
    stem = f"moodlens-export-{local_iso(now, zone)[:10]}"
    await message.reply_document(data, filename=f"{stem}.csv", caption=dialogs.text("export_caption"))
    await message.reply_document(as_json, filename=f"{stem}.json", caption=dialogs.text("export.json_caption"))


async def on_forget(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Ask for confirmation; the button does the deleting (bot.handlers.buttons)."""
    services = services_of(context)
    message, user = update.effective_message, update.effective_user
    assert message is not None and user is not None
    dialogs = await services.dialogs_for(user)
    markup = keyboards.forget(services.codec, dialogs, user.id, int(time.time() // 60))
    await message.reply_text(dialogs.text("forget_confirm.text"), reply_markup=markup)
