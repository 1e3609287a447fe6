"""Small steps several handlers share: the per-person limit check and the cosmetic chat action."""

from __future__ import annotations

import logging
import math

from telegram import Chat, Message
from telegram.error import TelegramError

from bot.rate_limit import RateLimited, RateLimiter, Ticket
from dialogs import Dialogs

log = logging.getLogger(__name__)


async def admit_or_explain(
    limiter: RateLimiter, user_id: int, message: Message, dialogs: Dialogs, text_key: str
) -> Ticket | None:
    """A ticket from ``limiter``; or None, after telling the person how long to wait (not on every refusal)."""
    try:
        return await limiter.admit(user_id)
    except RateLimited as exc:
        if exc.notify:
            await message.reply_text(dialogs.text(text_key, seconds=math.ceil(exc.retry_after)))
        return None


async def show_chat_action(chat: Chat, action: str) -> None:
    """ "typing…", "sending photo…": cosmetic, so a failure is only logged; the reply is what matters."""
    try:
        await chat.send_action(action)
    except TelegramError as exc:
        log.debug("chat action failed: %s", exc)
