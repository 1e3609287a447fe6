"""``python -m bot`` as a process: the sandbox mode without a token, and polling a Bot API server with one."""

from __future__ import annotations

import asyncio
import os
import re
import signal
import socket
import sqlite3
import sys
import time
from pathlib import Path

import aiohttp
import pytest

from bot.app import COMMANDS
from bot.config import PROJECT_ROOT
from sandbox import start_server
from sandbox.faults import FaultPlan
from storage import open_store

SETTINGS = [
    "TELEGRAM_BOT_TOKEN", "MOODLENS_DB_PATH", "SANDBOX_DB_PATH", "LOG_LEVEL", "BOT_MODE", "WEBHOOK_URL",
    "WEBHOOK_LISTEN", "WEBHOOK_PORT", "WEBHOOK_REGISTER",
    "WEBHOOK_SECRET_TOKEN", "MAX_UPLOAD_MB", "PHOTOS_PER_MINUTE", "PHOTOS_IN_FLIGHT", "RECOGNITION_WORKERS",
    "BUTTON_SECRET", "TELEGRAM_API_BASE_URL", "TELEGRAM_FILE_BASE_URL", "SANDBOX_HOST", "SANDBOX_PORT",
    "FER_MODEL_DIR", "FACE_DETECTOR", "DATABASE_URL",
]  # fmt: skip
TOKEN = "4242424242:FAKE-token-for-the-test_0123456789"


def bot_env(tmp_path: Path, **values: str) -> dict[str, str]:
    """The real environment with every setting set explicitly (empty ones too, so a local .env cannot leak in)."""
    env = {k: v for k, v in os.environ.items() if k not in SETTINGS}
    env.update({name: "" for name in SETTINGS})
    db = str(tmp_path / "bot.db")
    env.update(MOODLENS_DB_PATH=db, SANDBOX_DB_PATH=db, NO_PROXY="127.0.0.1,localhost")
    env["no_proxy"] = "127.0.0.1,localhost"
    env.update(values)
    return env


async def start_bot(env: dict[str, str]) -> asyncio.subprocess.Process:
    return await asyncio.create_subprocess_exec(
        sys.executable, "-m", "bot", cwd=PROJECT_ROOT, env=env,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
    )  # fmt: skip


async def ask(session: aiohttp.ClientSession, base: str, text: str, user_id: int = 7) -> str:
    async with session.post(f"{base}/sandbox/send_message", json={"user_id": user_id, "text": text}) as resp:
        sent = (await resp.json())["message"]["message_id"]
    async with session.get(f"{base}/sandbox/chats/{user_id}/next_bot_message?after={sent}&timeout=20") as resp:
        return (await resp.json())["message"]["text"]


async def stop(process: asyncio.subprocess.Process) -> tuple[int, str, str]:
    process.send_signal(signal.SIGINT)
    out, err = await asyncio.wait_for(process.communicate(), 30)
    return process.returncode, out.decode(), err.decode()


async def test_without_a_token_it_serves_the_sandbox(tmp_path: Path) -> None:
    process = await start_bot(bot_env(tmp_path, SANDBOX_PORT="0"))
    try:
        assert process.stdout is not None
        first = (await asyncio.wait_for(process.stdout.readline(), 60)).decode()
        match = re.match(r"MoodLens is running against the local Telegram sandbox at (http://127\.0\.0\.1:\d+) ", first)
        assert match, first
        base = match.group(1)
        async with aiohttp.ClientSession() as session:
            assert (await ask(session, base, "/start")).startswith("Hi! I'm MoodLens.")
            async with session.get(f"{base}/sandbox/commands") as resp:
                assert len((await resp.json())["command_lists"][0]["commands"]) == len(COMMANDS)
    finally:
        code, out, err = await stop(process)
    assert code == 0, err
    assert f"curl -s {base}/sandbox/send_photo -F user_id=1 -F file=@selfie.jpg" in first + out
    assert "Traceback" not in err


async def test_with_a_token_it_polls_the_configured_api_and_never_logs_the_token(tmp_path: Path) -> None:
    server = await start_server("127.0.0.1", 0, token=TOKEN)
    try:
        env = bot_env(tmp_path, TELEGRAM_BOT_TOKEN=TOKEN, TELEGRAM_API_BASE_URL=server.base_url, LOG_LEVEL="DEBUG")
        process = await start_bot(env)
        try:
            async with aiohttp.ClientSession() as session:
                assert "never store" in await ask(session, server.url, "/privacy")
        finally:
            code, out, err = await stop(process)
    finally:
        await server.stop()
    assert code == 0, err
    assert out == ""  # with a token nothing is printed; logging only
    assert "MoodLens is running as @moodlens_sandbox_bot (polling)" in err
    assert TOKEN not in err and TOKEN.split(":")[1] not in err


async def test_invalid_settings_exit_with_a_clear_message(tmp_path: Path) -> None:
    process = await start_bot(bot_env(tmp_path, PHOTOS_PER_MINUTE="many", TELEGRAM_BOT_TOKEN="oops:leaked secret"))
    out, err = await asyncio.wait_for(process.communicate(), 60)
    assert process.returncode == 2
    text = err.decode()
    assert "PHOTOS_PER_MINUTE must be an integer" in text and "TELEGRAM_BOT_TOKEN does not look like" in text
    assert "leaked secret" not in text


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


async def test_webhook_mode_registers_and_serves_the_webhook(tmp_path: Path) -> None:
    server = await start_server("127.0.0.1", 0, token=TOKEN)
    port = free_port()
    hook = f"http://127.0.0.1:{port}/moodlens-hook"
    env = bot_env(
        tmp_path,
        TELEGRAM_BOT_TOKEN=TOKEN,
        TELEGRAM_API_BASE_URL=server.base_url,
        BOT_MODE="webhook",
        WEBHOOK_URL=hook,
        WEBHOOK_LISTEN="127.0.0.1",
        WEBHOOK_PORT=str(port),
        WEBHOOK_SECRET_TOKEN="hook-secret",
    )
    process = await start_bot(env)
    try:
        for _ in range(1200):  # setWebhook publishes no sandbox event, so poll for it
            if server.state.webhook:
                break
            await asyncio.sleep(0.05)
        assert (server.state.webhook["url"], server.state.webhook["secret_token"]) == (hook, "hook-secret")
        async with aiohttp.ClientSession() as session:
            # A proxy's health check.
            async with session.get(f"http://127.0.0.1:{port}/healthz") as resp:
                assert resp.status == 200 and (await resp.json())["ok"] is True
            # Without Telegram's secret header the webhook refuses an update.
            forged = {"update_id": 999, "message": {"message_id": 1, "date": 0, "text": "/export",
                      "chat": {"id": 9, "type": "private"}, "from": {"id": 9, "is_bot": False, "first_name": "X"}}}
            async with session.post(hook, json=forged, headers={"X-Telegram-Bot-Api-Secret-Token": "wrong"}) as resp:
                assert resp.status == 403
            # The sandbox delivers a person's message to the webhook like Telegram, with the secret.
            async with session.post(f"{server.url}/sandbox/send_message", json={"user_id": 9, "text": "/help"}):
                pass
            reply = await server.state.wait_for_bot_message(9, 1, timeout=20)
            assert "/history" in reply.text
    finally:
        code, out, err = await stop(process)
        await server.stop()
    assert code == 0, err
    assert f"(webhook on 127.0.0.1:{port})" in err and TOKEN not in err and "hook-secret" not in err


async def test_webhook_without_a_secret_gets_a_random_one_and_drops_forged_chats(tmp_path: Path) -> None:
    server = await start_server("127.0.0.1", 0, token=TOKEN)
    port = free_port()
    hook = f"http://127.0.0.1:{port}/moodlens-hook"
    env = bot_env(tmp_path, TELEGRAM_BOT_TOKEN=TOKEN, TELEGRAM_API_BASE_URL=server.base_url, BOT_MODE="webhook",
                  WEBHOOK_URL=hook, WEBHOOK_LISTEN="127.0.0.1", WEBHOOK_PORT=str(port))  # fmt: skip
    env.pop("WEBHOOK_SECRET_TOKEN", None)
    process = await start_bot(env)
    try:
        for _ in range(1200):
            if server.state.webhook:
                break
            await asyncio.sleep(0.05)
        secret = server.state.webhook["secret_token"]
        assert secret and len(secret) >= 32, "a random secret was registered with setWebhook"
        async with aiohttp.ClientSession() as session:
            for user_id in (9, 10):  # delivered by the sandbox like Telegram, with the secret
                message = {"user_id": user_id, "text": "/help"}
                async with session.post(f"{server.url}/sandbox/send_message", json=message):
                    pass
                await server.state.wait_for_bot_message(user_id, 0, timeout=20)
            # A forged update: the victim as sender, the attacker's private chat as the place to answer.
            forged = {"update_id": 5000, "message": {
                "message_id": 77, "date": int(time.time()), "text": "/help",
                "chat": {"id": 10, "type": "private", "first_name": "User 10"},
                "from": {"id": 9, "is_bot": False, "first_name": "User 9"},
                "entities": [{"type": "bot_command", "offset": 0, "length": 5}]}}  # fmt: skip
            async with session.post(hook, json=forged) as resp:
                assert resp.status == 403, "no secret header, no entry"
            headers = {"X-Telegram-Bot-Api-Secret-Token": secret}
            async with session.post(hook, json=forged, headers=headers) as resp:
                assert resp.status == 200
            await asyncio.sleep(1.0)  # room for a reply to the forged update, had it been handled
            replies = [m for m in server.state.transcript(10) if m.sender == "bot"]
            assert len(replies) == 1, "only the attacker's own /help was answered"
    finally:
        code, out, err = await stop(process)
        await server.stop()
    assert code == 0, err
    assert secret not in err and secret not in out


@pytest.mark.parametrize("api", ["wrong token", "unreachable server"])
async def test_a_failed_start_exits_with_a_message_and_never_shows_the_token(tmp_path: Path, api: str) -> None:
    server = await start_server("127.0.0.1", 0, token="1:another-bots-token-entirely-different-xyz")
    base = server.base_url if api == "wrong token" else f"http://127.0.0.1:{free_port()}/bot"
    try:
        process = await start_bot(bot_env(tmp_path, TELEGRAM_BOT_TOKEN=TOKEN, TELEGRAM_API_BASE_URL=base))
        out, err = await asyncio.wait_for(process.communicate(), 90)
    finally:
        await server.stop()
    out, err = out.decode(), err.decode()
    assert process.returncode == 1, err[-2000:]
    assert TOKEN not in err and TOKEN not in out
    assert "MoodLens could not start" in err


@pytest.mark.parametrize("cause", ["port taken", "setWebhook refused"])
async def test_a_webhook_that_cannot_start_exits_1_naming_the_cause(tmp_path: Path, cause: str) -> None:
    # Refused: every Bot API call outside start-up answers 502, and setWebhook is the one the bot makes.
    faults = {"faults": FaultPlan(server_errors=1.0)} if cause == "setWebhook refused" else {}
    server = await start_server("127.0.0.1", 0, token=TOKEN, **faults)
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1] if cause == "port taken" else free_port()
        hook = f"http://127.0.0.1:{port}/hook"
        env = bot_env(tmp_path, TELEGRAM_BOT_TOKEN=TOKEN, TELEGRAM_API_BASE_URL=server.base_url, BOT_MODE="webhook",
                      WEBHOOK_URL=hook, WEBHOOK_LISTEN="127.0.0.1", WEBHOOK_PORT=str(port))  # fmt: skip
        try:
            process = await start_bot(env)
            out, err = await asyncio.wait_for(process.communicate(), 90)
        finally:
            await server.stop()
    out, err = out.decode(), err.decode()
    assert process.returncode == 1, err[-2000:]
    expected = {
        "port taken": f"could not start the webhook on 127.0.0.1:{port}: address already in use",
        "setWebhook refused": f"could not register the webhook {hook} with Telegram: Bad Gateway",
    }[cause]
    errors = [line for line in err.splitlines() if " ERROR " in line]
    assert len(errors) == 1 and errors[0].endswith(f"MoodLens could not start: {expected}"), err[-2000:]
    assert "still running" not in err and "Traceback" not in err
    assert TOKEN not in err + out and TOKEN.split(":")[1] not in err + out


def _answered(server, chat_id: int) -> set[int]:
    """The person's photos that have a reading (a redelivered photo may have two)."""
    return {m.reply_to_message_id for m in _readings(server, chat_id)}


def _readings(server, chat_id: int) -> list:
    """The bot's readings in a chat: replies to a photo that carry the "Not quite?" button (a stored check-in)."""
    messages = server.state.transcript(chat_id)
    return [m for m in messages if m.sender == "bot" and m.reply_to_message_id and m.reply_markup]


@pytest.mark.parametrize("mode", ["polling", "webhook"])
async def test_after_kill_9_every_photo_is_answered_and_no_checkin_lost_or_doubled(
    tmp_path: Path, photos_dir: Path, mode: str
) -> None:
    # Polling confirms an update once handled; the webhook answers Telegram (here the sandbox, which
    # retries like Telegram) once handled: either way a killed bot's unfinished updates come again.
    server = await start_server("127.0.0.1", 0, token=TOKEN)
    env = bot_env(tmp_path, TELEGRAM_BOT_TOKEN=TOKEN, TELEGRAM_API_BASE_URL=server.base_url,
                  PHOTOS_PER_MINUTE="1000", PHOTOS_IN_FLIGHT="16")  # fmt: skip
    if mode == "webhook":
        port = free_port()
        env.update(BOT_MODE="webhook", WEBHOOK_URL=f"http://127.0.0.1:{port}/hook", WEBHOOK_LISTEN="127.0.0.1",
                   WEBHOOK_PORT=str(port), WEBHOOK_SECRET_TOKEN="kill-test-secret")  # fmt: skip
    people, photos_each = range(1, 9), 4
    selfie = (photos_dir / "obama.jpg").read_bytes()
    store = await open_store(tmp_path / "bot.db")
    for user in people:  # they all agreed earlier to keep check-ins
        await store.set_consent(user)
    await store.close()
    process = await start_bot(env)
    try:
        async with aiohttp.ClientSession(base_url=server.url) as http:

            async def send(user_id: int) -> None:
                form = aiohttp.FormData()
                form.add_field("user_id", str(user_id))
                form.add_field("file", selfie, filename="selfie.jpg", content_type="image/jpeg")
                async with http.post("/sandbox/send_photo", data=form) as resp:
                    assert resp.status == 200

            await asyncio.gather(*(send(user) for user in people for _ in range(photos_each)))
            # Kill the bot in the middle of the burst: some readings sent, others still in the works.
            await server.state.wait_for(lambda: sum(len(_readings(server, u)) for u in people) >= 6, 90)
            process.kill()
            await process.wait()
            acknowledged = {user: len(_readings(server, user)) for user in people}
            assert 6 <= sum(acknowledged.values()) < len(people) * photos_each, "killed mid-burst"
            # Restarted on the same database, the bot is handed every update it had not finished: each
            # photo gets its reading in the end, and none becomes two check-ins.
            process = await start_bot(env)
            await send(1)
            wanted = {user: photos_each + (user == 1) for user in people}
            await server.state.wait_for(lambda: all(len(_answered(server, u)) == wanted[u] for u in people), 120)
    finally:
        code, _, err = await stop(process)
        await server.stop()
    assert code == 0, err[-2000:]
    with sqlite3.connect(tmp_path / "bot.db") as db:
        assert db.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        stored = dict(db.execute("SELECT user_id, COUNT(*) FROM checkins GROUP BY user_id").fetchall())
    for user in people:
        assert stored.get(user, 0) >= acknowledged[user], f"person {user}: a check-in they were shown is gone"
        assert stored.get(user, 0) == wanted[user], f"person {user}: {stored.get(user)} check-ins for {wanted[user]}"
