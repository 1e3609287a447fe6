"""The sandbox Bot API server driven by a real python-telegram-bot Application, plus its control API."""

from __future__ import annotations

import asyncio
import json
import struct
import time
import zlib
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import aiohttp
import pytest
from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Update
from telegram.constants import ChatAction, ParseMode
from telegram.error import BadRequest, Forbidden, InvalidToken, NetworkError
from telegram.ext import (
    Application,
    ApplicationBuilder,
    CallbackQueryHandler,
    CommandHandler,
    ContextTypes,
    MessageHandler,
    filters,
)

from sandbox import RunningServer

UPLOAD_LIMIT = 64 * 1024
ALICE = 111
BOB = 222


def png_bytes(width: int = 3, height: int = 2) -> bytes:
    """A valid RGB PNG of the given size."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)

    raw = b"".join(b"\x00" + b"\xff\x80\x00" * width for _ in range(height))
    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", zlib.compress(raw)) + chunk(b"IEND", b"")


@pytest.fixture
def sandbox_options() -> dict:
    return {"max_upload_bytes": UPLOAD_LIMIT}


# -- the bot under test: a tiny echo app --------------------------------------------------------------------


async def on_start(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    await update.message.reply_text(f"hello {update.effective_user.first_name}")


async def on_text(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    await update.message.reply_text(f"echo: {update.message.text}")


async def on_photo(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    await update.effective_chat.send_action(ChatAction.TYPING)
    photo = update.message.photo[-1]
    data = await (await photo.get_file()).download_as_bytearray()
    await update.message.reply_text(f"{len(data)} bytes {photo.width}x{photo.height}")


async def on_document(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    data = await (await update.message.document.get_file()).download_as_bytearray()
    await update.message.reply_document(
        bytes(data).upper(), filename="echo.csv", caption="<b>your</b> file", parse_mode="HTML"
    )


async def on_menu(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    keyboard = InlineKeyboardMarkup(
        [[InlineKeyboardButton("A", callback_data="pick:a"), InlineKeyboardButton("B", callback_data="pick:b")]]
    )
    await update.message.reply_text("Pick <i>one</i>", parse_mode=ParseMode.HTML, reply_markup=keyboard)


async def on_chart(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    await update.message.reply_photo(png_bytes(5, 4), caption="Mood &amp; <b>week</b>", parse_mode=ParseMode.HTML)


async def on_button(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    query = update.callback_query
    await query.answer(f"got {query.data}")
    await query.edit_message_text(f"You picked {query.data} (user {query.from_user.id})")


def build_app(server: RunningServer) -> Application:
    """The PTB application pointed at the sandbox."""
    app = ApplicationBuilder().token(server.token).base_url(server.base_url).base_file_url(server.base_file_url).build()
    app.add_handler(CommandHandler("start", on_start))
    app.add_handler(CommandHandler("menu", on_menu))
    app.add_handler(CommandHandler("chart", on_chart))
    app.add_handler(MessageHandler(filters.TEXT & ~filters.COMMAND, on_text))
    app.add_handler(MessageHandler(filters.PHOTO, on_photo))
    app.add_handler(MessageHandler(filters.Document.ALL, on_document))
    app.add_handler(CallbackQueryHandler(on_button))
    return app


@asynccontextmanager
async def running_bot(server: RunningServer) -> AsyncIterator[Application]:
    app = build_app(server)
    async with app:
        await app.updater.start_polling(poll_interval=0, timeout=1)
        await app.start()
        try:
            yield app
        finally:
            await app.updater.stop()
            await app.stop()


async def post_json(http: aiohttp.ClientSession, path: str, payload: dict) -> tuple[int, dict]:
    async with http.post(path, json=payload) as resp:
        return resp.status, await resp.json()


async def get_json(http: aiohttp.ClientSession, path: str) -> tuple[int, dict]:
    async with http.get(path) as resp:
        return resp.status, await resp.json()


# -- PTB end to end -----------------------------------------------------------------------------------------


async def test_text_echo_and_command(server: RunningServer, http: aiohttp.ClientSession) -> None:
    async with running_bot(server):
        status, sent = await post_json(http, "/sandbox/send_message", {"user_id": ALICE, "text": "hi there"})
        assert status == 200 and sent["ok"]
        user_msg = sent["message"]
        assert user_msg["sender"] == "user" and user_msg["chat_id"] == ALICE and user_msg["delivered"]

        reply = await server.state.wait_for_bot_message(ALICE, user_msg["message_id"], timeout=5)
        assert reply.text == "echo: hi there"
        assert reply.message_id == user_msg["message_id"] + 1

        _, sent = await post_json(
            http, "/sandbox/send_message", {"user_id": ALICE, "first_name": "Alice", "text": "/start"}
        )
        status, body = await get_json(
            http, f"/sandbox/chats/{ALICE}/next_bot_message?after={sent['message']['message_id']}&timeout=5"
        )
        assert status == 200 and body["message"]["text"] == "hello Alice"

    status, transcript = await get_json(http, f"/sandbox/chats/{ALICE}/messages")
    assert [(m["sender"], m["text"]) for m in transcript["messages"]] == [
        ("user", "hi there"),
        ("bot", "echo: hi there"),
        ("user", "/start"),
        ("bot", "hello Alice"),
    ]
    assert transcript["messages"][1]["from"]["is_bot"] is True
    # The bot confirmed everything it fetched when it stopped.
    assert server.state.pending_updates == []


async def test_photo_is_downloaded_by_the_bot(server: RunningServer, http: aiohttp.ClientSession) -> None:
    png = png_bytes(7, 5)
    async with running_bot(server):
        form = aiohttp.FormData()
        form.add_field("user_id", str(BOB))
        form.add_field("first_name", "Bob")
        form.add_field("file", png, filename="selfie.png", content_type="image/png")
        async with http.post("/sandbox/send_photo", data=form) as resp:
            assert resp.status == 200
            sent = (await resp.json())["message"]
        assert sent["kind"] == "photo" and sent["file"]["width"] == 7 and sent["file"]["height"] == 5

        reply = await server.state.wait_for_bot_message(BOB, sent["message_id"], timeout=5)
        assert reply.text == f"{len(png)} bytes 7x5"

    _, transcript = await get_json(http, f"/sandbox/chats/{BOB}/messages")
    assert transcript["chat_action"]["action"] == "typing"
    assert transcript["chat_action"]["active"] is False  # the reply ended it
    async with http.get(transcript["messages"][0]["file"]["url"]) as resp:
        assert resp.status == 200 and await resp.read() == png


async def test_button_press_answer_and_edit(server: RunningServer, http: aiohttp.ClientSession) -> None:
    async with running_bot(server):
        _, sent = await post_json(http, "/sandbox/send_message", {"user_id": ALICE, "text": "/menu"})
        menu = await server.state.wait_for_bot_message(ALICE, sent["message"]["message_id"], timeout=5)
        assert menu.text == "Pick one" and menu.source_text == "Pick <i>one</i>"
        _, transcript = await get_json(http, f"/sandbox/chats/{ALICE}/messages?after={sent['message']['message_id']}")
        assert transcript["messages"][0]["buttons"] == [
            [{"text": "A", "callback_data": "pick:a"}, {"text": "B", "callback_data": "pick:b"}]
        ]
        seq = transcript["last_seq"]

        status, pressed = await post_json(
            http, "/sandbox/press_button", {"user_id": ALICE, "message_id": menu.message_id, "callback_data": "pick:b"}
        )
        assert status == 200
        query_id = pressed["callback_query"]["callback_query_id"]
        _, answered = await get_json(http, f"/sandbox/callbacks/{query_id}?timeout=5")
        assert answered["callback_query"]["answered"] is True
        assert answered["callback_query"]["answer"]["text"] == "got pick:b"

        edited = await server.state.wait_for(lambda: server.state.get_message(ALICE, menu.message_id).edited, 5)
        assert edited is True
        _, events = await get_json(http, f"/sandbox/events?after={seq}&chat_id={ALICE}&timeout=5")
        assert {"callback_query", "callback_answer", "edited"} <= {e["type"] for e in events["events"]}

        # Nobody else can press buttons in Alice's private chat.
        status, pressed = await post_json(
            http,
            "/sandbox/press_button",
            {"user_id": BOB, "chat_id": ALICE, "message_id": menu.message_id, "data": "x"},
        )
        assert status == 400 and pressed["ok"] is False

    _, transcript = await get_json(http, f"/sandbox/chats/{ALICE}/messages")
    menu_view = next(m for m in transcript["messages"] if m["message_id"] == menu.message_id)
    assert menu_view["edited"] is True
    assert menu_view["text"] == f"You picked pick:b (user {ALICE})"
    assert menu_view["buttons"] == []  # editMessageText without reply_markup removes the keyboard
    assert len(transcript["callback_queries"]) >= 1


async def test_tampered_callback_data_and_unknown_button(server: RunningServer, http: aiohttp.ClientSession) -> None:
    async with running_bot(server):
        _, sent = await post_json(http, "/sandbox/send_message", {"user_id": ALICE, "text": "/menu"})
        menu = await server.state.wait_for_bot_message(ALICE, sent["message"]["message_id"], timeout=5)

        status, body = await post_json(
            http, "/sandbox/press_button", {"user_id": ALICE, "message_id": menu.message_id, "callback_data": "nope"}
        )
        assert status == 404 and body["ok"] is False
        status, body = await post_json(
            http, "/sandbox/press_button", {"user_id": ALICE, "message_id": menu.message_id, "data": "pick:../../etc"}
        )
        assert status == 200
        record = await server.state.wait_for_callback_answer(body["callback_query"]["callback_query_id"], 5)
        assert record.answer["text"] == "got pick:../../etc"


async def test_document_both_ways(server: RunningServer, http: aiohttp.ClientSession) -> None:
    async with running_bot(server):
        form = aiohttp.FormData()
        form.add_field("user_id", str(ALICE))
        form.add_field("file", b"a,b\n1,2\n", filename="data.csv", content_type="text/csv")
        async with http.post("/sandbox/send_document", data=form) as resp:
            sent = (await resp.json())["message"]
        assert sent["kind"] == "document" and sent["file"]["file_name"] == "data.csv"

        reply = await server.state.wait_for_bot_message(ALICE, sent["message_id"], timeout=5)
        assert reply.kind == "document" and reply.caption == "your file"
        view = server.state.message_view(reply)
        assert view["file"]["file_name"] == "echo.csv" and view["file"]["mime_type"] == "text/csv"
        async with http.get(view["file"]["url"]) as resp:
            assert await resp.read() == b"A,B\n1,2\n"


async def test_bot_sends_photo_with_html_caption(server: RunningServer, http: aiohttp.ClientSession) -> None:
    async with running_bot(server):
        _, sent = await post_json(http, "/sandbox/send_message", {"user_id": ALICE, "text": "/chart"})
        photo = await server.state.wait_for_bot_message(ALICE, sent["message"]["message_id"], timeout=5)
    view = server.state.message_view(photo)
    assert view["kind"] == "photo" and view["caption"] == "Mood & week"
    assert (view["file"]["width"], view["file"]["height"]) == (5, 4)
    async with http.get(view["file"]["url"]) as resp:
        assert resp.headers["Content-Type"] == "image/png" and await resp.read() == png_bytes(5, 4)


async def test_bot_edits_a_photo_caption_but_not_its_text(server: RunningServer, http: aiohttp.ClientSession) -> None:
    async with running_bot(server) as app:
        _, sent = await post_json(http, "/sandbox/send_message", {"user_id": ALICE, "text": "/chart"})
        photo = await server.state.wait_for_bot_message(ALICE, sent["message"]["message_id"], timeout=5)
        edited = await app.bot.edit_message_caption(
            ALICE, photo.message_id, caption="<i>Calmer</i> week", parse_mode="HTML"
        )
        assert edited.caption == "Calmer week" and edited.edit_date is not None
        with pytest.raises(BadRequest, match="no text in the message"):
            await app.bot.edit_message_text("a caption is not text", ALICE, photo.message_id)
    view = server.state.message_view(photo)
    assert view["kind"] == "photo" and view["caption"] == "Calmer week" and view["edited"] is True


async def test_sticker_video_note_and_group_privacy(server: RunningServer, http: aiohttp.ClientSession) -> None:
    status, body = await post_json(http, "/sandbox/send_sticker", {"user_id": ALICE, "emoji": "😀"})
    assert status == 200 and body["message"]["kind"] == "sticker"
    status, body = await post_json(http, "/sandbox/send_video_note", {"user_id": ALICE})
    assert status == 200 and body["message"]["kind"] == "video_note"
    status, body = await post_json(http, "/sandbox/send_photo", {"user_id": ALICE})
    assert status == 400  # a photo needs an image

    group = {"user_id": ALICE, "chat_id": -500, "chat_type": "group", "chat_title": "Friends"}
    _, chatter = await post_json(http, "/sandbox/send_message", {**group, "text": "just chatting"})
    _, command = await post_json(http, "/sandbox/send_message", {**group, "text": "/start@moodlens_sandbox_bot"})
    assert chatter["message"]["delivered"] is False and command["message"]["delivered"] is True

    updates = server.state.pending_updates
    kinds = [next(k for k in ("sticker", "video_note") if k in u["message"]) for u in updates[:2]]
    assert kinds == ["sticker", "video_note"]
    group_update = updates[-1]["message"]
    assert group_update["chat"] == {"id": -500, "type": "group", "title": "Friends"}
    assert group_update["entities"] == [{"type": "bot_command", "offset": 0, "length": 27}]


# -- error shapes -------------------------------------------------------------------------------------------


async def test_error_envelopes(server: RunningServer, http: aiohttp.ClientSession) -> None:
    api = f"/bot{server.token}"
    status, body = await post_json(http, "/bot999:WRONG/getMe", {})
    assert (status, body) == (401, {"ok": False, "error_code": 401, "description": "Unauthorized"})
    status, body = await post_json(http, f"{api}/fooBar", {})
    assert (status, body) == (404, {"ok": False, "error_code": 404, "description": "Not Found"})
    status, body = await post_json(http, f"{api}/sendMessage", {"text": "x"})
    assert (status, body) == (400, {"ok": False, "error_code": 400, "description": "Bad Request: chat_id is empty"})
    async with http.post(f"{api}/sendMessage", data=b"{not json", headers={"Content-Type": "application/json"}) as r:
        assert r.status == 400 and (await r.json())["description"].startswith("Bad Request:")
    status, body = await post_json(http, f"{api}/sendMessage", {"chat_id": 42, "text": "x"})
    assert status == 400 and body["description"] == "Bad Request: chat not found"

    await post_json(http, "/sandbox/send_message", {"user_id": ALICE, "text": "hi"})
    status, body = await post_json(http, f"{api}/editMessageText", {"chat_id": ALICE, "message_id": 99, "text": "x"})
    assert status == 400 and body["description"] == "Bad Request: message to edit not found"
    status, body = await post_json(http, f"{api}/editMessageText", {"chat_id": ALICE, "message_id": 1, "text": "x"})
    assert status == 400 and body["description"] == "Bad Request: message can't be edited"

    form = aiohttp.FormData()
    form.add_field("chat_id", str(ALICE))
    form.add_field("document", b"x" * (UPLOAD_LIMIT + 1), filename="big.bin")
    async with http.post(f"{api}/sendDocument", data=form) as resp:
        assert resp.status == 413
        assert await resp.json() == {"ok": False, "error_code": 413, "description": "Request Entity Too Large"}

    # getMe works with GET and query strings too, and method names are case-insensitive.
    status, body = await get_json(http, f"{api}/getme")
    assert status == 200 and body["result"]["is_bot"] is True and body["result"]["username"]


async def test_ptb_sees_real_exceptions(server: RunningServer, http: aiohttp.ClientSession) -> None:
    await post_json(http, "/sandbox/send_message", {"user_id": ALICE, "text": "hi"})
    app = build_app(server)
    async with app:
        bot = app.bot
        with pytest.raises(BadRequest, match="Chat not found"):
            await bot.send_message(424242, "x")
        with pytest.raises(BadRequest, match="Button_data_invalid"):
            await bot.send_message(
                ALICE, "x", reply_markup=InlineKeyboardMarkup([[InlineKeyboardButton("x", callback_data="y" * 65)]])
            )
        with pytest.raises(BadRequest, match="Can't parse entities"):
            await bot.send_message(ALICE, "a < b", parse_mode=ParseMode.HTML)
        with pytest.raises(BadRequest, match="reserved"):
            await bot.send_message(ALICE, "Great day!", parse_mode=ParseMode.MARKDOWN_V2)
        sent = await bot.send_message(ALICE, "*Great* day\\!", parse_mode=ParseMode.MARKDOWN_V2)
        assert sent.text == "Great day!"
        with pytest.raises(BadRequest, match="Message is not modified"):
            await bot.edit_message_text("*Great* day\\!", ALICE, sent.message_id, parse_mode=ParseMode.MARKDOWN_V2)
        with pytest.raises(NetworkError, match="Request Entity Too Large"):
            await bot.send_document(ALICE, b"x" * (UPLOAD_LIMIT + 1), filename="big.bin")
        with pytest.raises(BadRequest, match="Image_process_failed"):
            await bot.send_photo(ALICE, b"not an image")

        await bot.set_my_commands([("start", "Begin"), ("history", "Your moods")])
        assert [c.command for c in await bot.get_my_commands()] == ["start", "history"]
        _, listed = await get_json(http, "/sandbox/commands")
        assert listed["command_lists"][0]["commands"][1] == {"command": "history", "description": "Your moods"}
        assert await bot.delete_my_commands()
        assert await bot.get_my_commands() == ()

        await post_json(http, f"/sandbox/chats/{ALICE}/block", {"blocked": True})
        with pytest.raises(Forbidden, match="blocked"):
            await bot.send_message(ALICE, "still there?")

    bad = ApplicationBuilder().token("999:WRONG").base_url(server.base_url).build()
    with pytest.raises(InvalidToken):
        async with bad.bot:  # initialize() calls getMe; on failure the bot shuts its HTTP clients down
            pass


# -- getUpdates semantics -----------------------------------------------------------------------------------


async def test_get_updates_long_poll_offset_and_conflict(server: RunningServer, http: aiohttp.ClientSession) -> None:
    api = f"/bot{server.token}"
    started = time.monotonic()
    status, body = await post_json(http, f"{api}/getUpdates", {"timeout": 0.3})
    elapsed = time.monotonic() - started
    assert body == {"ok": True, "result": []} and 0.25 <= elapsed < 2

    poll = asyncio.create_task(post_json(http, f"{api}/getUpdates", {"timeout": 5}))
    await asyncio.sleep(0.05)
    started = time.monotonic()
    await post_json(http, "/sandbox/send_message", {"user_id": ALICE, "text": "wake up"})
    _, body = await poll
    assert time.monotonic() - started < 1
    [update] = body["result"]
    assert update["message"]["text"] == "wake up" and update["message"]["from"]["id"] == ALICE

    # Not acknowledged yet: delivered again; then offset confirms it.
    _, again = await post_json(http, f"{api}/getUpdates", {})
    assert [u["update_id"] for u in again["result"]] == [update["update_id"]]
    _, after = await post_json(http, f"{api}/getUpdates", {"offset": update["update_id"] + 1})
    assert after["result"] == []

    # Form-encoded like PTB sends it.
    async with http.post(f"{api}/getUpdates", data={"timeout": "0", "limit": "1"}) as resp:
        assert (await resp.json())["result"] == []

    # A second poller makes the first one fail with 409, like Telegram.
    first = asyncio.create_task(post_json(http, f"{api}/getUpdates", {"timeout": 5}))
    await asyncio.sleep(0.05)
    second = asyncio.create_task(post_json(http, f"{api}/getUpdates", {"timeout": 0.2}))
    status, body = await first
    assert status == 409 and body["description"].startswith("Conflict: terminated by other getUpdates")
    assert (await second)[1]["ok"] is True


async def test_wait_for_bot_message_times_out(server: RunningServer) -> None:
    with pytest.raises(TimeoutError):
        await server.state.wait_for_bot_message(ALICE, 0, timeout=0.05)


async def test_websocket_pushes_events(server: RunningServer, http: aiohttp.ClientSession) -> None:
    async with http.ws_connect("/sandbox/ws") as ws:
        await post_json(http, "/sandbox/send_message", {"user_id": ALICE, "text": "over the socket"})
        events = []
        while not any(e["type"] == "message" for e in events):
            events.append(json.loads((await ws.receive(timeout=5)).data))
        message_event = next(e for e in events if e["type"] == "message")
        assert message_event["message"]["text"] == "over the socket" and message_event["chat_id"] == ALICE


async def test_reset_and_status(server: RunningServer, http: aiohttp.ClientSession) -> None:
    await post_json(http, "/sandbox/send_message", {"user_id": ALICE, "text": "hi"})
    _, status = await get_json(http, "/sandbox/status")
    assert status["pending_updates"] == 1 and status["chats"] == 1 and status["bot"]["is_bot"]
    _, chats = await get_json(http, "/sandbox/chats")
    assert chats["chats"][0]["id"] == ALICE and chats["chats"][0]["last_message_id"] == 1
    await post_json(http, "/sandbox/reset", {})
    _, status = await get_json(http, "/sandbox/status")
    assert status["pending_updates"] == 0 and status["chats"] == 0


async def test_markup_edits_files_and_housekeeping(server: RunningServer, http: aiohttp.ClientSession) -> None:
    await post_json(http, "/sandbox/send_message", {"user_id": ALICE, "text": "hi"})
    app = build_app(server)
    async with app:
        bot = app.bot
        keyboard = InlineKeyboardMarkup([[InlineKeyboardButton("👍", callback_data="fb:+1:m1")]])
        sent = await bot.send_message(ALICE, "Movie", reply_markup=keyboard)
        assert sent.reply_markup == keyboard
        other = InlineKeyboardMarkup([[InlineKeyboardButton("Open", url="https://example.org")]])
        edited = await bot.edit_message_reply_markup(ALICE, sent.message_id, reply_markup=other)
        assert edited.reply_markup == other and edited.edit_date is not None
        view = server.state.message_view(server.state.get_message(ALICE, sent.message_id))
        assert view["buttons"] == [[{"text": "Open", "url": "https://example.org"}]] and view["edited"]
        removed = await bot.edit_message_reply_markup(ALICE, sent.message_id)
        assert removed.reply_markup is None
        with pytest.raises(BadRequest, match="not modified"):
            await bot.edit_message_reply_markup(ALICE, sent.message_id)

        # The bot's own upload can be fetched back through getFile and the file route.
        doc = await bot.send_document(ALICE, "héllo".encode(), filename="moods.csv")
        assert doc.document.file_name == "moods.csv" and doc.document.mime_type == "text/csv"
        file = await bot.get_file(doc.document.file_id)
        assert file.file_path.startswith(f"{server.base_file_url}{server.token}/documents/")
        assert bytes(await file.download_as_bytearray()) == "héllo".encode()
        with pytest.raises(BadRequest, match="Invalid file_id"):
            await bot.get_file("nope")

        # Re-sending by file_id reuses the stored file.
        again = await bot.send_document(ALICE, doc.document.file_id)
        assert again.document.file_id == doc.document.file_id

        assert await bot.delete_message(ALICE, sent.message_id)
        assert server.state.message_view(server.state.get_message(ALICE, sent.message_id))["deleted"]
        assert await bot.send_chat_action(ALICE, ChatAction.UPLOAD_PHOTO)
        _, transcript = await get_json(http, f"/sandbox/chats/{ALICE}/messages")
        assert transcript["chat_action"]["action"] == "upload_photo" and transcript["chat_action"]["active"]

        assert await bot.set_webhook("http://127.0.0.1:9/hook")
        assert (await bot.get_webhook_info()).url == "http://127.0.0.1:9/hook"
        status, body = await post_json(http, f"/bot{server.token}/getUpdates", {})
        assert status == 409 and "webhook is active" in body["description"]
        assert await bot.delete_webhook(drop_pending_updates=True)
        assert server.state.pending_updates == []
        assert await bot.log_out() and await bot.close()
