"""The chat page's HTTP side (no browser): the page, its assets, headers, and that it only uses its own origin."""

from __future__ import annotations

import inspect
import re
from html.parser import HTMLParser

import aiohttp
import pytest

from sandbox import RunningServer, start_server
from sandbox.__main__ import parse_args
from sandbox.chat_page import WEB_DIR

UPLOAD_LIMIT = 32 * 1024

#: An absolute or protocol-relative URL with a host (the SVG namespace is a name, not a place the page loads).
EXTERNAL = re.compile(r"""(?:[a-z][a-z0-9+.-]*:)?//[a-z0-9-]+(?:\.[a-z0-9-]+)+""", re.IGNORECASE)
ALLOWED_EXTERNAL = {"http://www.w3.org/2000/svg"}


class _Links(HTMLParser):
    """Every src/href in an HTML document."""

    def __init__(self) -> None:
        super().__init__()
        self.urls: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.urls += [value for name, value in attrs if name in ("src", "href", "action", "poster") and value]


@pytest.fixture
def sandbox_options() -> dict:
    return {"max_upload_bytes": UPLOAD_LIMIT}


async def _page(http: aiohttp.ClientSession, path: str) -> tuple[aiohttp.ClientResponse, str]:
    async with http.get(path, headers={"Accept": "text/html,application/xhtml+xml,*/*;q=0.8"}) as resp:
        return resp, await resp.text()


@pytest.mark.parametrize("path", ["/", "/chat", "/chat/"])
async def test_page_is_served_as_html_with_a_strict_policy(http: aiohttp.ClientSession, path: str) -> None:
    resp, html = await _page(http, path)
    assert resp.status == 200
    assert resp.content_type == "text/html"
    assert "<title>" in html and 'id="composer-input"' in html
    csp = resp.headers["Content-Security-Policy"]
    for directive in ("default-src 'none'", "script-src 'self'", "connect-src 'self'", "frame-ancestors 'none'"):
        assert directive in csp
    assert resp.headers["X-Content-Type-Options"] == "nosniff"


async def test_root_still_answers_json_to_api_clients(http: aiohttp.ClientSession, server: RunningServer) -> None:
    async with http.get("/", headers={"Accept": "application/json"}) as resp:
        body = await resp.json()
    assert resp.status == 200 and body["ok"] is True
    assert body["bot"]["id"] == server.state.bot_user.id and body["chat_page"] == "/chat"


async def test_assets_resolve_with_their_types(http: aiohttp.ClientSession) -> None:
    _, html = await _page(http, "/")
    parser = _Links()
    parser.feed(html)
    local = [u for u in parser.urls if not u.startswith("#")]
    assert {"/chat/assets/app.js", "/chat/assets/style.css"} <= set(local)
    expected = {".js": "javascript", ".css": "text/css", ".svg": "image/svg+xml"}
    for url in local:
        assert url.startswith("/") and not url.startswith("//"), url
        async with http.get(url) as resp:
            assert resp.status == 200, url
            suffix = url[url.rfind(".") :]
            assert expected[suffix] in resp.content_type, (url, resp.content_type)
            assert resp.headers["X-Content-Type-Options"] == "nosniff"


async def test_config_tells_the_page_the_bot_and_the_upload_limit(http: aiohttp.ClientSession) -> None:
    async with http.get("/chat/config.json") as resp:
        body = await resp.json()
    assert body["ok"] is True and body["max_upload_bytes"] == UPLOAD_LIMIT
    assert body["bot"]["is_bot"] is True and body["bot"]["first_name"]


def test_no_external_origin_anywhere_in_the_page() -> None:
    files = sorted(p for p in WEB_DIR.iterdir() if p.suffix in (".html", ".js", ".css", ".svg"))
    assert {p.name for p in files} >= {"index.html", "app.js", "style.css"}
    for path in files:
        text = path.read_text(encoding="utf-8")
        for allowed in ALLOWED_EXTERNAL:
            text = text.replace(f'"{allowed}"', '""')
        found = {m.group(0) for m in EXTERNAL.finditer(text)}
        assert not found, f"{path.name} refers to another origin: {sorted(found)}"
        assert "@import" not in text and "googleapis" not in text, path.name
        if path.suffix == ".css":
            assert all(u.startswith(("/", "#")) for u in re.findall(r"url\(\s*['\"]?([^'\")]+)", text)), path.name


def test_script_never_parses_message_text_as_live_html() -> None:
    script = (WEB_DIR / "app.js").read_text(encoding="utf-8")
    for sink in ("innerHTML", "outerHTML", "insertAdjacentHTML", "document.write", "eval(", "new Function"):
        assert sink not in script, sink
    assert "textContent" in script


async def test_assets_do_not_escape_their_folder(http: aiohttp.ClientSession) -> None:
    for path in ("/chat/assets/../server.py", "/chat/assets/%2e%2e/server.py", "/chat/assets/"):
        async with http.get(path) as resp:
            assert resp.status in (403, 404), path
            assert "def create_app" not in await resp.text()


async def test_uploads_too_large_and_malformed_requests_get_json_errors(http: aiohttp.ClientSession) -> None:
    form = aiohttp.FormData()
    form.add_field("user_id", "5")
    form.add_field("file", b"\xff\xd8" + b"x" * (UPLOAD_LIMIT + 10), filename="big.jpg", content_type="image/jpeg")
    async with http.post("/sandbox/send_photo", data=form) as resp:
        assert resp.status == 413
        body = await resp.json()
    assert body["ok"] is False and str(UPLOAD_LIMIT) in body["error"]

    async with http.post(
        "/sandbox/send_message", data=b"{not json", headers={"Content-Type": "application/json"}
    ) as resp:
        assert resp.status == 400 and (await resp.json())["ok"] is False
    async with http.post("/sandbox/press_button", json={"user_id": "x", "message_id": 1, "text": "A"}) as resp:
        assert resp.status == 400 and "user_id" in (await resp.json())["error"]
    async with http.post("/bot123:wrong/sendMessage", json={"chat_id": 1, "text": "hi"}) as resp:
        assert resp.status == 401
        assert await resp.json() == {"ok": False, "error_code": 401, "description": "Unauthorized"}


def test_sandbox_binds_to_localhost_by_default(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("SANDBOX_HOST", raising=False)
    assert inspect.signature(start_server).parameters["host"].default == "127.0.0.1"
    assert parse_args([]).host == "127.0.0.1"
