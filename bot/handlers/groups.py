"""Private chats only: in a group the bot says so politely (when addressed) and does nothing else."""

from __future__ import annotations

from telegram import Message, MessageEntity, Update
from telegram.ext import ApplicationHandlerStop, ContextTypes

from bot.services import services_of


def addressed_to_bot(message: Message, bot_username: str | None, bot_id: int) -> bool:
    """A command, an @mention of the bot, or a reply to one of its messages (what privacy mode delivers)."""
    replied = message.reply_to_message
    if replied is not None and replied.from_user is not None and replied.from_user.id == bot_id:
        return True
    entities = message.parse_entities([MessageEntity.BOT_COMMAND, MessageEntity.MENTION])
    entities.update(message.parse_caption_entities([MessageEntity.BOT_COMMAND, MessageEntity.MENTION]))
    for entity, text in entities.items():
        if entity.type == MessageEntity.BOT_COMMAND and entity.offset == 0:
            _, _, target = text.partition("@")  # "/start@other_bot" is for another bot
            return not target or (bot_username is not None and target.lower() == bot_username.lower())
        if entity.type == MessageEntity.MENTION and bot_username and text.lower() == f"@{bot_username.lower()}":
            return True
    return False


async def on_group_message(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Reply once with the private-chat pointer when addressed; never analyse photos in groups."""
    message = update.effective_message
    if message is not None and addressed_to_bot(message, context.bot.username, context.bot.id):
        dialogs = await services_of(context).dialogs_for(update.effective_user)
        await message.reply_text(dialogs.text("group_chat"))
    raise ApplicationHandlerStop
