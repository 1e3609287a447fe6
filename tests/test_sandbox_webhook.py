"""The sandbox delivers by webhook like Telegram: POSTs with the secret header, retries until accepted."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import aiohttp
import pytest
from aiohttp import web

from sandbox import RunningServer
from sandbox.webhook_delivery import SECRET_HEADER

ALICE = 601
SECRET = "webhook-secret_123"


class Receiver:
    """A bot's webhook endpoint that refuses the first ``refuse`` deliveries with 500."""

    def __init__(self, refuse: int) -> None:
        self.refuse = refuse
        self.calls: list[tuple[str | None, dict]] = []
        self.accepted: list[dict] = []

    async def handle(self, request: web.Request) -> web.Response:
        body = await request.json()
        self.calls.append((request.headers.get(SECRET_HEADER), body))
        if len(self.calls) <= self.refuse:
            return web.Response(status=500)
        self.accepted.append(body)
        return web.Response(status=200)


@pytest.fixture
async def receiver() -> AsyncIterator[tuple[Receiver, str]]:
    hook = Receiver(refuse=2)
    app = web.Application()
    app.router.add_post("/hook", hook.handle)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = runner.addresses[0][1]
    yield hook, f"http://127.0.0.1:{port}/hook"
    await runner.cleanup()


async def _bot_call(http: aiohttp.ClientSession, server: RunningServer, method: str, **params: object) -> dict:
    async with http.post(f"/bot{server.token}/{method}", json=params) as resp:
        return await resp.json()


async def test_updates_are_posted_with_the_secret_and_retried_until_accepted(
    server: RunningServer, http: aiohttp.ClientSession, receiver: tuple[Receiver, str]
) -> None:
    hook, url = receiver
    assert (await _bot_call(http, server, "setWebhook", url=url, secret_token=SECRET))["ok"]
    for text in ("one", "two"):
        await http.post("/sandbox/send_message", json={"user_id": ALICE, "text": text})
    await server.state.wait_for(lambda: len(hook.accepted) == 2 and not server.state.pending_updates, 20)
    assert sorted(u["message"]["text"] for u in hook.accepted) == ["one", "two"]
    assert {secret for secret, _ in hook.calls} == {SECRET} and len(hook.calls) == 4  # two refused, then retried
    info = (await _bot_call(http, server, "getWebhookInfo"))["result"]
    assert info["pending_update_count"] == 0 and "500" in info["last_error_message"]
    # getUpdates is refused while the webhook is set, like Telegram.
    assert (await _bot_call(http, server, "getUpdates"))["error_code"] == 409

    # After deleteWebhook nothing more is posted; updates wait for getUpdates.
    assert (await _bot_call(http, server, "deleteWebhook"))["ok"]
    await http.post("/sandbox/send_message", json={"user_id": ALICE, "text": "three"})
    await asyncio.sleep(0.3)
    assert len(hook.calls) == 4 and len(server.state.pending_updates) == 1


async def test_an_unreachable_webhook_keeps_updates_pending(server: RunningServer, http: aiohttp.ClientSession) -> None:
    assert (await _bot_call(http, server, "setWebhook", url="http://127.0.0.1:9/nothing-listens"))["ok"]
    await http.post("/sandbox/send_message", json={"user_id": ALICE, "text": "hello?"})
    await server.state.wait_for(lambda: len(server.state.webhook_errors) >= 1, 10)
    assert len(server.state.pending_updates) == 1
    assert (await _bot_call(http, server, "setWebhook", url="ftp://example.org/x"))["error_code"] == 400
