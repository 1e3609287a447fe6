"""Who may talk to the sandbox: only this machine's own pages and programs.

The sandbox is the default mode of ``python -m bot``, so it runs on a person's machine while their
browser has other sites open.  Three rules keep those sites out:

* **Host**: only ``127.0.0.1``, ``localhost``, ``::1`` and the host the server was started on are
  served.  A page on ``evil.example`` that re-points its DNS name to 127.0.0.1 (DNS rebinding) still
  sends ``Host: evil.example`` and is refused.
* **Origin**: a browser names the page behind every POST and websocket in ``Origin`` (and marks
  cross-site requests in ``Sec-Fetch-Site``).  A request from any other origin, or from an opaque
  one (``null``), is refused everywhere.  Programs (PTB, curl, tests) send no ``Origin``; a web page
  cannot leave it out, so the absence cannot be forged by one.
* **Content type**: state-changing control routes take ``application/json`` only (uploads also
  ``multipart/form-data``), so even a request that slipped past the first two could not be a plain
  HTML form post.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterable
from urllib.parse import urlsplit

from aiohttp import web

#: Host names every sandbox answers to: the loopback interface by its usual names.
LOOPBACK_HOSTS = frozenset({"127.0.0.1", "localhost", "::1"})
#: Bind addresses that are not a name a browser would use (listen on every interface).
WILDCARD_HOSTS = frozenset({"0.0.0.0", "::", ""})
#: Methods that change state (everything but reads).
UNSAFE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})
#: Prefix of the routes a person's page uses to act; the Bot API routes are the bot's.
CONTROL_PREFIX = "/sandbox/"
JSON_TYPE = "application/json"
MULTIPART_TYPE = "multipart/form-data"
#: Control routes that take file uploads, and so also multipart bodies.
UPLOAD_PREFIX = "/sandbox/send_"

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


def allowed_hosts(bind_host: str, extra: Iterable[str] = ()) -> frozenset[str]:
    """Loopback names, the bind host when it is a real name or address, and ``extra``."""
    names = set(LOOPBACK_HOSTS) | {h.lower().strip("[]") for h in extra}
    if bind_host.lower() not in WILDCARD_HOSTS:
        names.add(bind_host.lower().strip("[]"))
    return frozenset(names)


def host_name(host_header: str) -> str:
    """``Host`` without its port, brackets or case: ``[::1]:8080`` -> ``::1``."""
    host = host_header.strip().lower()
    if host.startswith("["):
        return host[1 : host.find("]")] if "]" in host else host
    return host.rsplit(":", 1)[0] if host.count(":") == 1 else host


def _refuse(status: int, message: str) -> web.Response:
    return web.json_response({"ok": False, "error": message}, status=status)


def _same_origin(request: web.Request, origin: str) -> bool:
    """Whether ``origin`` is this server as the browser reached it (scheme, host and port)."""
    parts = urlsplit(origin)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        return False  # includes "null", file:// and sandboxed frames
    return parts.netloc.lower() == request.host.lower()


def _why_refused(request: web.Request, hosts: frozenset[str]) -> tuple[int, str] | None:
    if host_name(request.host or "") not in hosts:
        return 421, "this sandbox only answers to localhost"
    origin = request.headers.get("Origin")
    if origin is not None and not _same_origin(request, origin):
        return 403, "requests from other web pages are not allowed"
    if request.headers.get("Sec-Fetch-Site", "").lower() == "cross-site":
        return 403, "requests from other web pages are not allowed"
    if request.method in UNSAFE_METHODS and request.path.startswith(CONTROL_PREFIX):
        allowed = (JSON_TYPE, MULTIPART_TYPE) if request.path.startswith(UPLOAD_PREFIX) else (JSON_TYPE,)
        if request.content_type not in allowed:
            return 415, f"send {' or '.join(allowed)}"
    return None


def request_guard(hosts: frozenset[str]) -> Callable[[web.Request, Handler], Awaitable[web.StreamResponse]]:
    """aiohttp middleware applying the rules above to every route, the websocket included."""

    @web.middleware
    async def guard(request: web.Request, handler: Handler) -> web.StreamResponse:
        refusal = _why_refused(request, hosts)
        if refusal is not None:
            return _refuse(*refusal)
        return await handler(request)

    return guard
