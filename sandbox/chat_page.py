"""The browser chat page: ``/`` and ``/chat`` serve a Telegram-like chat over the control API.

The page (``sandbox/web/``) is plain HTML/CSS/JS with no build step and no third-party origin.  It acts as a
person through ``/sandbox/send_*`` and ``/sandbox/press_button`` and shows what the bot does from the event
feed (``/sandbox/ws``, or long-polling ``/sandbox/events``); every bot behaviour comes from the real bot process.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from pathlib import Path

from aiohttp import web

from sandbox.bot_api import STATE_KEY

log = logging.getLogger(__name__)

WEB_DIR = Path(__file__).resolve().parent / "web"
ASSETS_PREFIX = "/chat/assets"

#: The page may only load from and connect to its own origin (the webcam preview is a MediaStream, not a URL).
CONTENT_SECURITY_POLICY = "; ".join(
    [
        "default-src 'none'",
        "script-src 'self'",
        "style-src 'self'",
        "img-src 'self'",
        "media-src 'self'",
        "connect-src 'self'",
        "font-src 'self'",
        "manifest-src 'self'",
        "base-uri 'none'",
        "form-action 'none'",
        "frame-ancestors 'none'",
    ]
)

SECURITY_HEADERS = {
    "Content-Security-Policy": CONTENT_SECURITY_POLICY,
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "Cache-Control": "no-cache",
}

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


def _wants_json(request: web.Request) -> bool:
    """Whether the client asked for JSON rather than a page (``Accept: application/json`` without text/html)."""
    accept = request.headers.get("Accept", "")
    return "application/json" in accept and "text/html" not in accept


async def chat_page(request: web.Request) -> web.StreamResponse:
    """GET /chat: the chat page."""
    return web.FileResponse(WEB_DIR / "index.html", headers={**SECURITY_HEADERS, "Content-Type": "text/html"})


async def page_config(request: web.Request) -> web.Response:
    """GET /chat/config.json: what the page needs to know about this sandbox (bot identity, upload limit)."""
    state = request.app[STATE_KEY]
    return web.json_response(
        {"ok": True, "bot": state.bot_user.to_api(), "max_upload_bytes": state.config.max_upload_bytes},
        headers={"Cache-Control": "no-store"},
    )


@web.middleware
async def asset_headers(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Static assets: no sniffing, revalidate on every load (the page is a development tool)."""
    response = await handler(request)
    if request.path.startswith(ASSETS_PREFIX + "/"):
        response.headers["X-Content-Type-Options"] = "nosniff"
        response.headers["Cache-Control"] = "no-cache"
    return response


def add_routes(app: web.Application, info: Handler) -> None:
    """Mount the page at ``/`` and ``/chat``; ``/`` still answers ``info`` (JSON) to clients that ask for JSON."""

    async def root(request: web.Request) -> web.StreamResponse:
        if _wants_json(request):
            return await info(request)
        return await chat_page(request)

    app.middlewares.append(asset_headers)
    app.router.add_get("/", root)
    app.router.add_get("/chat", chat_page)
    app.router.add_get("/chat/", chat_page)
    app.router.add_get("/chat/config.json", page_config)
    app.router.add_static(ASSETS_PREFIX, WEB_DIR, show_index=False, follow_symlinks=False)
    log.debug("chat page mounted at / and /chat (assets in %s)", WEB_DIR)
