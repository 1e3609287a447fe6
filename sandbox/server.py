"""Assembles the sandbox aiohttp app and runs it on a local port (``port=0`` picks a free one)."""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import logging
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

from aiohttp import web

from sandbox import bot_api, chat_page, control_api
from sandbox.bot_api import STATE_KEY
from sandbox.request_guard import allowed_hosts, request_guard
from sandbox.state import SandboxConfig, SandboxState
from sandbox.webhook_delivery import deliver_forever

log = logging.getLogger(__name__)


async def _index(request: web.Request) -> web.Response:
    """Where things are (GET / with ``Accept: application/json``; browsers get the chat page)."""
    state = request.app[STATE_KEY]
    return web.json_response(
        {
            "ok": True,
            "sandbox": "moodlens Telegram Bot API sandbox",
            "bot": state.bot_user.to_api(),
            "bot_api": "/bot<token>/<method>",
            "file_api": "/file/bot<token>/<file_path>",
            "control_api": "/sandbox/...",
            "chat_page": "/chat",
        }
    )


def create_app(
    state: SandboxState | None = None, *, config: SandboxConfig | None = None, bind_host: str = "127.0.0.1"
) -> web.Application:
    """The aiohttp application: Bot API routes, file downloads and the /sandbox control API on one state.

    Only requests for loopback names or ``bind_host`` from no web page or this one are served
    (``request_guard``).
    """
    if state is None:
        state = SandboxState(config)
    elif config is not None and config is not state.config:
        raise ValueError("pass either a state or a config, not both")
    # Uploads are streamed and limited by config.max_upload_bytes; this bounds url-encoded/JSON bodies only.
    app = web.Application(client_max_size=state.config.max_upload_bytes + (1 << 20))
    app[STATE_KEY] = state
    app.middlewares.append(request_guard(allowed_hosts(bind_host)))
    bot_api.add_routes(app)
    control_api.add_routes(app)
    chat_page.add_routes(app, info=_index)

    async def _close_state(_: web.Application) -> None:
        state.close()

    async def _webhook_delivery(_: web.Application) -> AsyncIterator[None]:
        delivery = asyncio.create_task(deliver_forever(state), name="sandbox-webhook-delivery")
        yield
        delivery.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await delivery

    app.on_shutdown.append(_close_state)
    app.cleanup_ctx.append(_webhook_delivery)
    return app


@dataclass
class RunningServer:
    """A started sandbox: where it listens, its state, and ``stop()``."""

    host: str
    port: int
    state: SandboxState
    runner: web.AppRunner

    @property
    def url(self) -> str:
        """``http://host:port`` (no trailing slash)."""
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"http://{host}:{self.port}"

    @property
    def token(self) -> str:
        """The bot token the server accepts."""
        return self.state.config.token

    @property
    def base_url(self) -> str:
        """For ``ApplicationBuilder().base_url(...)``: PTB appends ``<token>/<method>``."""
        return f"{self.url}/bot"

    @property
    def base_file_url(self) -> str:
        """For ``ApplicationBuilder().base_file_url(...)``: PTB appends ``<token>/<file_path>``."""
        return f"{self.url}/file/bot"

    async def stop(self) -> None:
        """Wake all waiters (long polls return empty) and shut the server down."""
        self.state.close()
        await self.runner.cleanup()
        log.info("sandbox stopped on %s", self.url)

    async def __aenter__(self) -> RunningServer:
        """Use as ``async with await start_server() as server``."""
        return self

    async def __aexit__(self, *exc: object) -> None:
        """Stop on leaving the block."""
        await self.stop()


async def start_server(
    host: str = "127.0.0.1",
    port: int = 0,
    *,
    state: SandboxState | None = None,
    config: SandboxConfig | None = None,
    **config_overrides: Any,
) -> RunningServer:
    """Start the sandbox on ``host:port`` (0 = any free port); ``config_overrides`` set SandboxConfig fields."""
    if config_overrides:
        if state is not None:
            raise ValueError("config overrides need a fresh state")
        config = dataclasses.replace(config or SandboxConfig(), **config_overrides)
    app = create_app(state, config=config, bind_host=host)
    runner = web.AppRunner(app, access_log=None, shutdown_timeout=1.0, handler_cancellation=True)
    await runner.setup()
    site = web.TCPSite(runner, host, port)
    try:
        await site.start()
    except BaseException:
        await runner.cleanup()
        raise
    bound_port = int(runner.addresses[0][1])
    server = RunningServer(host=host, port=bound_port, state=app[STATE_KEY], runner=runner)
    log.info("sandbox listening on %s (chat page %s/, bot API base_url %s)", server.url, server.url, server.base_url)
    return server
