"""Webhook delivery as Telegram does it: after ``setWebhook`` each pending update is POSTed to the URL.

The body is the update as JSON, with ``X-Telegram-Bot-Api-Secret-Token`` when a secret was set.  A 2xx
answer confirms the update; anything else (another status, a refused or cut connection, no answer in
``DELIVERY_TIMEOUT_S``) is tried again later with growing pauses, for as long as the webhook stays set.
At most ``max_connections`` updates are on their way at once (setWebhook's parameter, 40 by default).
This lets webhook-mode bots, and several of them behind a proxy, be tested on one machine.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import logging
import time
from typing import Any

import aiohttp

from sandbox.state import SandboxState

log = logging.getLogger(__name__)

SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"
DEFAULT_MAX_CONNECTIONS = 40
#: Pauses before the next try of an update that was not accepted; the last one repeats.
RETRY_DELAYS = (0.5, 1.0, 2.0, 4.0, 8.0)
DELIVERY_TIMEOUT_S = 60.0
#: How often the loop looks again when it is waiting for updates or free connections.
IDLE_WAIT_S = 1.0


async def deliver_forever(state: SandboxState) -> None:
    """Run until cancelled: deliver pending updates while a webhook is set (start it with the server)."""
    sending: dict[int, asyncio.Task] = {}
    timeout = aiohttp.ClientTimeout(total=DELIVERY_TIMEOUT_S)
    async with aiohttp.ClientSession(timeout=timeout) as session:
        try:
            while not state.closed:
                webhook = state.webhook
                limit = int((webhook or {}).get("max_connections") or DEFAULT_MAX_CONNECTIONS)
                ready = [] if webhook is None else [u for u in state.pending_updates if u["update_id"] not in sending]
                for update in ready[: max(limit - len(sending), 0)]:
                    task = asyncio.create_task(_deliver(state, session, webhook, update))
                    sending[update["update_id"]] = task
                    task.add_done_callback(lambda _, uid=update["update_id"]: sending.pop(uid, None))
                news = functools.partial(_has_news, state, sending, webhook, limit)
                with contextlib.suppress(TimeoutError):
                    await state.wait_for(lambda: state.closed or news(), IDLE_WAIT_S)  # noqa: B023 (used at once)
        finally:
            for task in sending.values():
                task.cancel()


def _has_news(
    state: SandboxState, sending: dict[int, asyncio.Task], webhook: dict[str, Any] | None, limit: int
) -> bool:
    """The webhook changed, or an update waits and a connection is free."""
    if state.webhook is not webhook:
        return True
    waiting = any(u["update_id"] not in sending for u in state.pending_updates)
    return webhook is not None and len(sending) < limit and waiting


async def _deliver(
    state: SandboxState, session: aiohttp.ClientSession, webhook: dict[str, Any], update: dict[str, Any]
) -> None:
    headers = {SECRET_HEADER: webhook["secret_token"]} if webhook.get("secret_token") else {}
    attempt = 0
    while state.webhook is webhook and not state.closed:
        error = await _post(session, webhook["url"], update, headers)
        if error is None:
            state.confirm_update(update["update_id"])
            return
        state.webhook_errors.append((time.time(), error))
        delay = RETRY_DELAYS[min(attempt, len(RETRY_DELAYS) - 1)]
        attempt += 1
        log.info("webhook delivery of update %d failed (%s); again in %.1f s", update["update_id"], error, delay)
        await asyncio.sleep(delay)


async def _post(
    session: aiohttp.ClientSession, url: str, update: dict[str, Any], headers: dict[str, str]
) -> str | None:
    """None when the bot accepted the update, else why not (like getWebhookInfo's last_error_message)."""
    try:
        async with session.post(url, json=update, headers=headers) as resp:
            await resp.read()
            return None if 200 <= resp.status < 300 else f"Wrong response from the webhook: {resp.status}"
    except (aiohttp.ClientError, TimeoutError, OSError) as exc:
        return f"Connection failed: {type(exc).__name__}"
