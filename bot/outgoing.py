"""Outgoing Bot API calls: Telegram's flood limits, its 429s, and transient network failures.

PTB's ``AIORateLimiter`` keeps the bot under Telegram's limits (30 messages a second overall, 20 a
minute per group) and waits out a ``RetryAfter`` (429).  On top of it, the calls a person waits for
(the reading, the suggestions, button answers, file look-ups) are tried again after a network error,
a timeout or a 5xx: a check-in stored and acknowledged must not lose its reply to a hiccup.
Cosmetic calls (chat actions) and the update fetch (PTB retries polling itself) are not repeated.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Coroutine, Sequence
from typing import Any, TypeVar

from telegram.error import BadRequest, NetworkError
from telegram.ext import AIORateLimiter

log = logging.getLogger(__name__)

#: How often a 429 is waited out before the call fails.
MAX_429_RETRIES = 3
#: Pauses before each new try of a call that failed on the network.
NETWORK_RETRY_DELAYS = (0.5, 1.5, 4.0)
#: Calls worth repeating: what a person sees, and the look-up a download needs.
RETRIED_METHODS = frozenset(
    {
        "sendMessage",
        "sendPhoto",
        "sendDocument",
        "editMessageText",
        "editMessageCaption",
        "editMessageReplyMarkup",
        "answerCallbackQuery",
        "getFile",
    }
)

Result = bool | dict[str, Any] | list[dict[str, Any]]
T = TypeVar("T")


class RetryingRateLimiter(AIORateLimiter):
    """``AIORateLimiter`` that also retries the methods in ``RETRIED_METHODS`` after network errors."""

    def __init__(self) -> None:
        super().__init__(max_retries=MAX_429_RETRIES)

    async def process_request(
        self,
        callback: Callable[..., Coroutine[Any, Any, Result]],
        args: Any,
        kwargs: dict[str, Any],
        endpoint: str,
        data: dict[str, Any],
        rate_limit_args: int | None,
    ) -> Result:
        """Send through the flood limiter; repeat a retried method after NetworkError (never BadRequest)."""
        delays = NETWORK_RETRY_DELAYS if endpoint in RETRIED_METHODS else ()
        send = super().process_request
        return await retry_network_errors(
            lambda: send(callback, args, kwargs, endpoint, data, rate_limit_args), delays, endpoint
        )


async def retry_network_errors(call: Callable[[], Awaitable[T]], delays: Sequence[float], what: str) -> T:
    """``call()``, tried again after each of ``delays`` when it fails on the network (never on BadRequest)."""
    for attempt, delay in enumerate((*delays, None), start=1):
        try:
            return await call()
        except BadRequest:
            raise  # the request itself is wrong: the same again fails the same way
        except NetworkError as exc:  # TimedOut, connection errors and Telegram's 5xx
            if delay is None:
                raise
            log.info("%s failed (try %d): %s; retrying in %.1f s", what, attempt, exc, delay)
            await asyncio.sleep(delay)
    raise AssertionError("unreachable")
