"""Webhook workers behind one URL: WEBHOOK_REGISTER=0 workers only serve, ``python -m bot set-webhook``
registers the shared URL and secret once, and SIGTERM finishes the updates in hand before exiting."""

from __future__ import annotations

import asyncio
import signal
import sys
from pathlib import Path

import aiohttp
import pytest
from telegram.error import BadRequest
from test_bot_main import TOKEN, bot_env, free_port, start_bot

from bot.config import PROJECT_ROOT, SettingsError, load_settings
from bot.handlers import presses
from sandbox import start_server
from sandbox.faults import FaultPlan
from storage import open_store

SECRET = "shared-worker-secret"


def worker_env(tmp_path: Path, api: str, port: int, **values: str) -> dict[str, str]:
    """One worker behind the proxy: serves 127.0.0.1:port, never calls setWebhook."""
    settings = dict(
        TELEGRAM_BOT_TOKEN=TOKEN, TELEGRAM_API_BASE_URL=api, BOT_MODE="webhook",
        WEBHOOK_URL=f"http://127.0.0.1:{port}/hook", WEBHOOK_LISTEN="127.0.0.1", WEBHOOK_PORT=str(port),
        WEBHOOK_SECRET_TOKEN=SECRET, WEBHOOK_REGISTER="0",
    )  # fmt: skip
    return bot_env(tmp_path, **{**settings, **values})


def test_a_worker_that_does_not_register_needs_the_shared_secret(tmp_path: Path) -> None:
    base = {"TELEGRAM_BOT_TOKEN": TOKEN, "BOT_MODE": "webhook", "WEBHOOK_URL": "https://example.org/hook"}
    with pytest.raises(SettingsError, match="WEBHOOK_REGISTER=0 needs WEBHOOK_SECRET_TOKEN"):
        load_settings({**base, "WEBHOOK_REGISTER": "0"}, env_file=None, create_dirs=False)
    with pytest.raises(SettingsError, match="WEBHOOK_REGISTER must be 1 or 0"):
        load_settings({**base, "WEBHOOK_REGISTER": "maybe"}, env_file=None, create_dirs=False)
    worker = load_settings({**base, "WEBHOOK_REGISTER": "0", "WEBHOOK_SECRET_TOKEN": SECRET}, env_file=None)
    assert not worker.webhook_register and worker.webhook_secret_token == SECRET
    single = load_settings(base, env_file=None, create_dirs=False)  # one process: registers, random secret
    assert single.webhook_register and single.webhook_secret_token


async def run_command(env: dict[str, str], *args: str) -> tuple[int, str]:
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "bot", *args, cwd=PROJECT_ROOT, env=env,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT,
    )  # fmt: skip
    out, _ = await asyncio.wait_for(process.communicate(), 60)
    return process.returncode or 0, out.decode()


async def test_set_webhook_registers_the_url_and_secret_once_and_exits(tmp_path: Path) -> None:
    server = await start_server("127.0.0.1", 0, token=TOKEN)
    try:
        env = worker_env(tmp_path, server.base_url, 8443, WEBHOOK_URL="https://bot.example.org/hook")
        code, out = await run_command(env, "set-webhook")
        assert code == 0, out
        assert server.state.webhook["url"] == "https://bot.example.org/hook"
        assert server.state.webhook["secret_token"] == SECRET
        assert "webhook registered" in out and SECRET not in out and TOKEN not in out
        # Without the shared secret nothing is registered: the workers could not check Telegram's header.
        env["WEBHOOK_SECRET_TOKEN"] = ""
        code, out = await run_command(env, "set-webhook")
        assert code == 2 and "needs WEBHOOK_SECRET_TOKEN" in out
        code, out = await run_command(env, "sett-webhook")
        assert code == 2 and "usage: python -m bot [set-webhook]" in out
    finally:
        await server.stop()


async def test_sigterm_finishes_the_photo_in_hand_then_exits(tmp_path: Path, photos_dir: Path) -> None:
    # Every download takes 3 s, so the photo is surely in hand when SIGTERM comes.
    server = await start_server("127.0.0.1", 0, token=TOKEN, faults=FaultPlan(download_delay=3.0))
    port = free_port()
    store = await open_store(tmp_path / "bot.db")
    await store.set_consent(5)
    await store.close()
    process = await start_bot(worker_env(tmp_path, server.base_url, port))
    health = f"http://127.0.0.1:{port}/healthz"
    try:
        async with aiohttp.ClientSession() as http:
            for _ in range(600):  # the worker starts; it must not register anything itself
                try:
                    async with http.get(health) as resp:
                        if resp.status == 200:
                            break
                except aiohttp.ClientConnectionError:
                    await asyncio.sleep(0.1)
            assert server.state.webhook is None, "a worker with WEBHOOK_REGISTER=0 never calls setWebhook"
            server.state.webhook = {"url": f"http://127.0.0.1:{port}/hook", "secret_token": SECRET}
            server.state.notify_all()
            form = aiohttp.FormData()
            form.add_field("user_id", "5")
            form.add_field("file", (photos_dir / "obama.jpg").read_bytes(), filename="s.jpg", content_type="image/jpeg")
            async with http.post(f"{server.url}/sandbox/send_photo", data=form) as resp:
                photo = (await resp.json())["message"]["message_id"]
            for _ in range(200):
                async with http.get(health) as resp:
                    if (await resp.json())["updates_in_hand"]:
                        break
                await asyncio.sleep(0.05)
            process.send_signal(signal.SIGTERM)
            await asyncio.sleep(0.3)
            async with http.get(health) as resp:  # draining: the proxy sends nothing new here
                assert resp.status == 503 and (await resp.json())["updates_in_hand"] == 1
            _, err = await asyncio.wait_for(process.communicate(), 30)
    finally:
        if process.returncode is None:
            process.kill()
        await server.stop()
    assert process.returncode == 0, err.decode()[-2000:]
    readings = [m for m in server.state.transcript(5) if m.reply_to_message_id == photo and m.reply_markup]
    assert len(readings) == 1, "the photo in hand got its reading before the worker exited"
    assert not server.state.pending_updates, "and Telegram was told so (no redelivery)"


class AnsweredQuery:
    """A press whose answer Telegram refuses with ``error`` (an already answered one: a redelivered update)."""

    id = "q1"

    def __init__(self, error: str) -> None:
        self.error = error

    async def answer(self, text: str | None = None) -> None:
        raise BadRequest(self.error)


async def test_a_press_delivered_again_after_a_worker_died_still_does_its_work() -> None:
    # The dead worker answered it; the worker it is delivered to next must not stop at the refused second answer.
    await presses.answer(AnsweredQuery("Query is too old and response timeout expired or query id is invalid"))
    with pytest.raises(BadRequest):
        await presses.answer(AnsweredQuery("Chat not found"))
