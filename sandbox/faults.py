"""A bad day at Telegram, on purpose: 429s, 5xx answers, cut connections and slow file downloads.

Off by default.  ``start_server(..., faults=FaultPlan(...))`` (or ``state.config.faults = ...`` while
running) makes the Bot API routes misbehave at random, reproducibly with a seed, so tests and
``benchmarks/fault_injection.py`` can check the bot keeps its promises when Telegram does not.
A fault always happens *before* the method runs, like a refused or lost request: nothing is half done.
"""

from __future__ import annotations

import asyncio
import random
from dataclasses import dataclass, field

from aiohttp import web

#: Methods never disturbed by default: fetching updates and start-up (PTB has its own retry loops there).
SPARED_METHODS = frozenset({"getupdates", "getme", "deletewebhook", "setmycommands", "getmycommands"})
RATE_LIMITED = "rate_limited"
SERVER_ERROR = "server_error"
DROPPED = "dropped"


@dataclass
class FaultPlan:
    """Shares of Bot API calls to disturb (each 0..1) and the delay before every file download."""

    rate_limited: float = 0.0  # answered 429 "Too Many Requests" with ``retry_after``
    retry_after: int = 1
    server_errors: float = 0.0  # answered 502 "Bad Gateway"
    dropped: float = 0.0  # the connection is cut without an answer
    download_delay: float = 0.0  # seconds before a file download answers
    seed: int | None = None
    spared: frozenset[str] = SPARED_METHODS
    rng: random.Random = field(init=False, repr=False)
    #: How many of each fault were injected (for reports).
    counts: dict[str, int] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.rng = random.Random(self.seed)

    @property
    def active(self) -> bool:
        """Whether anything is disturbed at all."""
        return any((self.rate_limited, self.server_errors, self.dropped, self.download_delay))

    def pick(self, method: str) -> str | None:
        """The fault for one call of ``method`` (lower-case), or None to answer normally."""
        if method in self.spared:
            return None
        roll = self.rng.random()
        for name, share in ((RATE_LIMITED, self.rate_limited), (SERVER_ERROR, self.server_errors),
                            (DROPPED, self.dropped)):  # fmt: skip
            if roll < share:
                self.counts[name] = self.counts.get(name, 0) + 1
                return name
            roll -= share
        return None


async def disturb(request: web.Request, plan: FaultPlan, method: str) -> web.Response | None:
    """Apply the plan to one Bot API call: a faulty response to return, or None to go on normally."""
    fault = plan.pick(method)
    if fault == RATE_LIMITED:
        body = _error(429, f"Too Many Requests: retry after {plan.retry_after}")
        return web.json_response({**body, "parameters": {"retry_after": plan.retry_after}}, status=429)
    if fault == SERVER_ERROR:
        return web.json_response(_error(502, "Bad Gateway"), status=502)
    if fault == DROPPED:
        if request.transport is not None:
            request.transport.abort()
        raise asyncio.CancelledError  # aiohttp ends the handler quietly; the client sees a reset
    return None


def _error(code: int, description: str) -> dict[str, object]:
    return {"ok": False, "error_code": code, "description": description}


async def slow_download(plan: FaultPlan) -> None:
    """Wait as long as the plan says before a file download answers."""
    if plan.download_delay > 0:
        plan.counts["slow_download"] = plan.counts.get("slow_download", 0) + 1
        await asyncio.sleep(plan.download_delay)
