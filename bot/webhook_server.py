"""The webhook endpoint: answers Telegram only once an update has been handled, plus ``/healthz``.

PTB's built-in webhook server answers 200 as soon as an update is queued, so a worker killed while
reading a photo loses it.  Here the answer waits for the handlers: a crash or a shutdown leaves
Telegram without a 2xx, and Telegram delivers the update again (to this worker after a restart, or
to another behind the proxy).  Check-ins are keyed by their message, so a repeat adds nothing.

Routes: ``POST /<path>`` (Telegram's secret header required, compared in constant time) and
``GET /healthz`` (200 while serving, 503 while stopping, for a proxy's health checks).  On stop the
worker first turns unhealthy and refuses new updates with 503, then waits for those in hand.
"""

from __future__ import annotations

import asyncio
import hmac
import json
import logging
from dataclasses import dataclass, field

from aiohttp import web
from telegram import Update
from telegram.ext import Application

log = logging.getLogger(__name__)

SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"
#: How long stopping waits for the updates in hand before giving up on them (Telegram will resend).
DRAIN_TIMEOUT_S = 30.0
HEALTH_PATH = "/healthz"


@dataclass
class WebhookServer:
    """One worker's webhook listener; ``start()`` binds it, ``stop()`` drains and closes it."""

    app: Application
    path: str
    secret_token: str | None
    in_hand: set[asyncio.Task] = field(default_factory=set)
    serving: bool = False
    _runner: web.AppRunner | None = None

    async def start(self, listen: str, port: int) -> None:
        """Bind ``listen:port`` (OSError when it cannot) and start serving."""
        web_app = web.Application(client_max_size=1 << 20)  # updates are small JSON
        web_app.router.add_post("/" + self.path.lstrip("/"), self._update)
        web_app.router.add_get(HEALTH_PATH, self._health)
        self._runner = web.AppRunner(web_app, access_log=None, shutdown_timeout=1.0)
        await self._runner.setup()
        try:
            await web.TCPSite(self._runner, listen, port).start()
        except BaseException:
            await self._runner.cleanup()
            self._runner = None
            raise
        self.serving = True

    @property
    def port(self) -> int:
        """The port it listens on (useful after binding port 0)."""
        assert self._runner is not None
        return int(self._runner.addresses[0][1])

    async def stop(self) -> None:
        """Turn unhealthy, refuse new updates, wait (bounded) for those in hand, then close."""
        self.serving = False
        if self.in_hand:
            log.info("waiting for %d update(s) in hand", len(self.in_hand))
            await asyncio.wait(set(self.in_hand), timeout=DRAIN_TIMEOUT_S)
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    async def _health(self, request: web.Request) -> web.Response:
        status = 200 if self.serving else 503
        return web.json_response({"ok": self.serving, "updates_in_hand": len(self.in_hand)}, status=status)

    async def _update(self, request: web.Request) -> web.Response:
        if self.secret_token is not None:
            given = request.headers.get(SECRET_HEADER, "")
            if not hmac.compare_digest(given.encode(), self.secret_token.encode()):
                return web.Response(status=403)
        if not self.serving:
            return web.Response(status=503)  # stopping: Telegram (or the proxy) tries again elsewhere
        try:
            update = Update.de_json(json.loads(await request.read()), self.app.bot)
        except (ValueError, TypeError, KeyError):
            return web.Response(status=400)
        if update is None:
            return web.Response(status=400)
        # Shielded: a client that hangs up must not cancel half a check-in; the task finishes anyway.
        task = asyncio.ensure_future(self.app.process_update(update))
        self.in_hand.add(task)
        task.add_done_callback(self.in_hand.discard)
        await asyncio.shield(task)
        return web.Response(status=200)
