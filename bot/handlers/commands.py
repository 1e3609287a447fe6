"""Commands and everything that is not a photo: /start, /help, /privacy, unknown commands, text, other media."""

from __future__ import annotations

from telegram import Update
from telegram.ext import ContextTypes

from bot.services import services_of


async def _reply(update: Update, context: ContextTypes.DEFAULT_TYPE, key: str) -> None:
    message = update.effective_message
    assert message is not None
    services = services_of(context)
    await message.reply_text(services.dialogs.text(key, rng=services.rng))


async def on_start(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """What the bot does, what it stores (never photos), that it is no diagnosis, and the data controls."""
    await _reply(update, context, "welcome")


async def on_help(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """The list of commands."""
    await _reply(update, context, "help")


async def on_privacy(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """The privacy notice."""
    await _reply(update, context, "privacy")


async def on_unknown_command(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """A command the bot does not have."""
    await _reply(update, context, "unknown_command")


async def on_text(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Free text (and anything else unexpected): a short pointer to selfies and /help."""
    await _reply(update, context, "free_text")


async def on_sticker(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Stickers are not photos."""
    await _reply(update, context, "sticker")


async def on_video(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Videos, video notes and GIFs: still photos only."""
    await _reply(update, context, "video")


async def on_voice(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Voice and audio messages."""
    await _reply(update, context, "voice")
