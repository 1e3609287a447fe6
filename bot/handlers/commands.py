"""Replies that are one dialog text: /start, /help, /privacy, unknown commands, free text, other media.

/start and /privacy also carry the consent button (keep my check-ins, or stop keeping them)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from telegram import Update
from telegram.ext import ContextTypes

from bot import keyboards
from bot.services import services_of

Handler = Callable[[Update, ContextTypes.DEFAULT_TYPE], Awaitable[None]]

#: Commands answered with the dialog text of the same meaning (welcome, commands list, privacy notice).
TEXT_COMMANDS = {"help": "help"}
#: Commands whose text comes with the consent choice (agree, or stop keeping).
CONSENT_COMMANDS = {"start": "welcome", "privacy": "privacy"}


def reply_with(key: str) -> Handler:
    """A handler that answers with the dialog text ``key`` (one of its variants, when it has several)."""

    async def reply(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        message = update.effective_message
        assert message is not None
        services = services_of(context)
        dialogs = await services.dialogs_for(update.effective_user)
        await message.reply_text(dialogs.text(key, rng=services.rng))

    reply.__name__ = f"reply_{key}"
    return reply


def reply_with_consent_choice(key: str) -> Handler:
    """A handler that answers with the dialog text ``key`` and the consent button that fits the person now."""

    async def reply(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        message, user = update.effective_message, update.effective_user
        assert message is not None and user is not None
        services = services_of(context)
        given = await services.store.consent_at(user.id) is not None
        dialogs = await services.dialogs_for(user)
        markup = keyboards.consent_choice(services.codec, dialogs, user.id, given=given)
        await message.reply_text(dialogs.text(key, rng=services.rng), reply_markup=markup)

    reply.__name__ = f"reply_{key}_with_consent_choice"
    return reply
