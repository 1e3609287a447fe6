"""Replies that are one dialog text: /start, /help, /privacy, unknown commands, free text, other media."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from telegram import Update
from telegram.ext import ContextTypes

from bot.services import services_of

Handler = Callable[[Update, ContextTypes.DEFAULT_TYPE], Awaitable[None]]

#: Commands answered with the dialog text of the same meaning (welcome, commands list, privacy notice).
TEXT_COMMANDS = {"start": "welcome", "help": "help", "privacy": "privacy"}


def reply_with(key: str) -> Handler:
    """A handler that answers with the dialog text ``key`` (one of its variants, when it has several)."""

    async def reply(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        message = update.effective_message
        assert message is not None
        services = services_of(context)
        await message.reply_text(services.dialogs.text(key, rng=services.rng))

    reply.__name__ = f"reply_{key}"
    return reply
