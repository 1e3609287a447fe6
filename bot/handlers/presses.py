"""Answering a button press, shared by every module with button routes (bot.handlers.buttons and its neighbours)."""

from __future__ import annotations

import logging
from collections.abc import Awaitable

from telegram import CallbackQuery
from telegram.error import BadRequest

from bot.replies import MAX_CALLBACK_ANSWER, clip
from bot.services import Services

log = logging.getLogger(__name__)


async def answer(query: CallbackQuery, text: str | None = None) -> None:
    """Answer the press (every press is answered exactly once), with a short text when there is one.

    A press delivered again (its webhook worker died after answering, before confirming the update) is already
    answered: Telegram refuses a second answer, and the press still does its work.
    """
    try:
        await query.answer(clip(text, MAX_CALLBACK_ANSWER) if text else None)
    except BadRequest as exc:
        if "query is too old" not in str(exc).lower():
            raise
        log.info("press %s already answered (delivered again?): %s", query.id, exc)


async def stale(services: Services, query: CallbackQuery) -> None:
    """Answer a press whose button no longer means anything (tampered, old, someone else's, gone)."""
    dialogs = await services.dialogs_for(query.from_user)
    await answer(query, dialogs.text("stale_button"))


async def quietly(action: Awaitable[object]) -> None:
    """Edits of old messages may fail (deleted, unchanged, too old); that never matters to the person."""
    try:
        await action
    except BadRequest as exc:
        log.debug("edit skipped: %s", exc)
