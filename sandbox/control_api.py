"""The user side: ``/sandbox/...`` JSON routes to act as Telegram users and to read what the bot did.

Errors are ``{"ok": false, "error": "..."}`` with 400 (bad input), 404 (unknown chat/message/button/file) or
408 (a wait timed out).  File URLs in message views are relative to the server (``/sandbox/files/<file_id>``).
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import contextlib
import json
import logging
from typing import Any

from aiohttp import web

from sandbox.bot_api import STATE_KEY
from sandbox.media import stored_file_response
from sandbox.state import FILE_FOLDERS, Chat, SandboxState, User

log = logging.getLogger(__name__)

#: Stand-in bytes when a sticker/video/voice is sent without a file (no image needed for those).
PLACEHOLDER_BYTES = {
    "sticker": (
        b"RIFF\x1a\x00\x00\x00WEBPVP8L\x0d\x00\x00\x00/\xff\xc1?\x00\x07\x10\xfd\x8f\xfe\x07\x00",
        "image/webp",
    ),
    "video": (b"\x00\x00\x00\x18ftypmp42sandbox-video", "video/mp4"),
    "video_note": (b"\x00\x00\x00\x18ftypmp42sandbox-note", "video/mp4"),
    "voice": (b"OggS\x00sandbox-voice", "audio/ogg"),
    "animation": (b"\x00\x00\x00\x18ftypmp42sandbox-gif", "video/mp4"),
}


class ControlError(Exception):
    """A control API failure: HTTP ``status`` and a message."""

    def __init__(self, status: int, message: str) -> None:
        """Keep the status and message."""
        super().__init__(message)
        self.status = status


def _fail(status: int, message: str) -> web.Response:
    return web.json_response({"ok": False, "error": message}, status=status)


def _state(request: web.Request) -> SandboxState:
    return request.app[STATE_KEY]


def _int(fields: dict[str, Any], name: str, default: int | None = None, *, required: bool = False) -> int | None:
    value = fields.get(name)
    if value is None or value == "":
        if required:
            raise ControlError(400, f"{name} is required")
        return default
    try:
        return int(value)
    except (TypeError, ValueError):
        raise ControlError(400, f"{name} must be an integer") from None


def _float_query(request: web.Request, name: str, default: float, maximum: float = 60.0) -> float:
    try:
        return min(max(float(request.query.get(name, default)), 0.0), maximum)
    except ValueError:
        raise ControlError(400, f"{name} must be a number") from None


async def _json_body(request: web.Request) -> dict[str, Any]:
    try:
        body = await request.json() if request.body_exists else {}
    except (ValueError, json.JSONDecodeError):
        raise ControlError(400, "body must be a JSON object") from None
    if not isinstance(body, dict):
        raise ControlError(400, "body must be a JSON object")
    return body


def _user_and_chat(state: SandboxState, fields: dict[str, Any]) -> tuple[User, Chat]:
    """The acting person (``user_id`` required) and the chat (private by default, or a group)."""
    user_id = _int(fields, "user_id", required=True)
    assert user_id is not None
    user = state.register_user(
        user_id,
        fields.get("first_name") or None,
        last_name=fields.get("last_name") or None,
        username=fields.get("username") or None,
        language_code=fields.get("language_code") or None,
    )
    try:
        chat = state.open_chat(
            user, _int(fields, "chat_id"), str(fields.get("chat_type") or "private"), fields.get("chat_title")
        )
    except ValueError as exc:
        raise ControlError(400, str(exc)) from None
    return user, chat


@web.middleware
async def control_errors(request: web.Request, handler: Any) -> web.StreamResponse:
    """Turn ControlError/LookupError/ValueError/TimeoutError from /sandbox routes into JSON errors."""
    if not request.path.startswith("/sandbox/"):
        return await handler(request)
    try:
        return await handler(request)
    except ControlError as exc:
        return _fail(exc.status, str(exc))
    except KeyError:
        raise
    except LookupError as exc:
        return _fail(404, str(exc.args[0]) if exc.args else "not found")
    except ValueError as exc:
        return _fail(400, str(exc))
    except TimeoutError:
        return _fail(408, "timed out waiting")


# -- acting as a user ---------------------------------------------------------------------------------------


async def send_message(request: web.Request) -> web.Response:
    """POST /sandbox/send_message {user_id, text, [first_name, chat_id, chat_type, reply_to_message_id]}."""
    state = _state(request)
    fields = await _json_body(request)
    user, chat = _user_and_chat(state, fields)
    text = fields.get("text")
    if not isinstance(text, str) or not text:
        raise ControlError(400, "text is required")
    msg = state.user_send_text(user, chat, text, reply_to_message_id=_int(fields, "reply_to_message_id"))
    return web.json_response({"ok": True, "message": state.message_view(msg)})


async def _media_fields(request: web.Request, kind: str) -> tuple[dict[str, Any], bytes | None, str | None, str | None]:
    """Fields plus (data, file_name, content_type) from multipart (part ``file`` or ``<kind>``) or JSON."""
    if request.content_type.startswith("multipart/"):
        fields: dict[str, Any] = {}
        data = file_name = content_type = None
        reader = await request.multipart()
        limit = _state(request).config.max_upload_bytes
        while (part := await reader.next()) is not None:
            if not hasattr(part, "read_chunk"):
                raise ControlError(400, "nested multipart is not supported")
            if part.filename is None and part.name not in ("file", kind):
                fields[part.name or ""] = await part.text()
                continue
            chunks, size = [], 0
            while chunk := await part.read_chunk(256 * 1024):
                size += len(chunk)
                if size > limit:
                    raise ControlError(413, f"file is larger than {limit} bytes")
                chunks.append(chunk)
            data, file_name, content_type = b"".join(chunks), part.filename, part.headers.get("Content-Type")
        return fields, data, file_name, content_type
    fields = await _json_body(request)
    raw = fields.get("data_base64")
    data = None
    if raw is not None:
        try:
            data = base64.b64decode(raw, validate=True)
        except (binascii.Error, ValueError, TypeError):
            raise ControlError(400, "data_base64 is not valid base64") from None
    return fields, data, fields.get("file_name"), fields.get("mime_type")


async def send_media(request: web.Request) -> web.Response:
    """POST /sandbox/send_{photo,document,sticker,video,video_note,voice,animation} (multipart or JSON)."""
    state = _state(request)
    kind = request.match_info["kind"]
    if kind not in FILE_FOLDERS:
        raise ControlError(404, f"unknown media kind {kind!r}")
    fields, data, file_name, content_type = await _media_fields(request, kind)
    if not data:
        if kind not in PLACEHOLDER_BYTES:
            raise ControlError(400, f"a {kind} needs a file (multipart part 'file') or data_base64")
        data, content_type = PLACEHOLDER_BYTES[kind]
    user, chat = _user_and_chat(state, fields)
    msg = state.user_send_file(
        user,
        chat,
        kind,
        data,
        file_name=file_name,
        mime_type=content_type,
        caption=fields.get("caption") or None,
        emoji=fields.get("emoji") or None,
    )
    return web.json_response({"ok": True, "message": state.message_view(msg)})


async def send_location(request: web.Request) -> web.Response:
    """POST /sandbox/send_location {user_id, latitude, longitude, [chat_id, chat_type]}."""
    state = _state(request)
    fields = await _json_body(request)
    user, chat = _user_and_chat(state, fields)
    try:
        latitude, longitude = float(fields["latitude"]), float(fields["longitude"])
    except (KeyError, TypeError, ValueError):
        raise ControlError(400, "latitude and longitude are required numbers") from None
    msg = state.user_send_location(user, chat, latitude, longitude)
    return web.json_response({"ok": True, "message": state.message_view(msg)})


async def press_button(request: web.Request) -> web.Response:
    """POST /sandbox/press_button {user_id, message_id, callback_data | text | data, [chat_id]}."""
    state = _state(request)
    fields = await _json_body(request)
    user, chat = _user_and_chat(state, fields)
    message_id = _int(fields, "message_id", required=True)
    assert message_id is not None
    if not any(fields.get(k) is not None for k in ("callback_data", "text", "data")):
        raise ControlError(400, "give callback_data or text (a button) or data (arbitrary callback data)")
    record = state.press_button(
        user,
        chat.id,
        message_id,
        callback_data=fields.get("callback_data"),
        button_text=fields.get("text"),
        data=fields.get("data"),
    )
    return web.json_response({"ok": True, "callback_query": record.view()})


async def block_chat(request: web.Request) -> web.Response:
    """POST /sandbox/chats/{chat_id}/block {"blocked": true|false}: the user blocks the bot (sends then get 403)."""
    state = _state(request)
    fields = await _json_body(request)
    chat = state.set_blocked(int(request.match_info["chat_id"]), bool(fields.get("blocked", True)))
    return web.json_response({"ok": True, "chat": state.chat_view(chat)})


# -- reading what happened ----------------------------------------------------------------------------------


def _chat_id(request: web.Request) -> int:
    try:
        return int(request.match_info["chat_id"])
    except ValueError:
        raise ControlError(400, "chat_id must be an integer") from None


async def chat_messages(request: web.Request) -> web.Response:
    """GET /sandbox/chats/{chat_id}/messages?after=<id>&wait=<s>: the transcript (waits for a first new message)."""
    state = _state(request)
    chat_id = _chat_id(request)
    after = _int(dict(request.query), "after", 0) or 0
    wait = _float_query(request, "wait", 0.0)
    if wait > 0:
        with contextlib.suppress(TimeoutError):
            await state.wait_for_message(chat_id, after, wait)
    action = state.chat_actions.get(chat_id)
    return web.json_response(
        {
            "ok": True,
            "chat_id": chat_id,
            "messages": [state.message_view(m) for m in state.transcript(chat_id, after)],
            "chat_action": action.view() if action else None,
            "callback_queries": [r.view() for r in state.callback_queries.values() if r.chat_id == chat_id],
            "last_seq": state.last_seq,
        }
    )


async def next_bot_message(request: web.Request) -> web.Response:
    """GET /sandbox/chats/{chat_id}/next_bot_message?after=<id>&timeout=<s>: the first bot message after ``after``."""
    state = _state(request)
    after = _int(dict(request.query), "after", 0) or 0
    msg = await state.wait_for_bot_message(_chat_id(request), after, _float_query(request, "timeout", 5.0))
    return web.json_response({"ok": True, "message": state.message_view(msg)})


async def list_chats(request: web.Request) -> web.Response:
    """GET /sandbox/chats."""
    state = _state(request)
    return web.json_response({"ok": True, "chats": [state.chat_view(c) for c in state.chats.values()]})


async def callback_query(request: web.Request) -> web.Response:
    """GET /sandbox/callbacks/{id}?timeout=<s>: the query, waiting up to ``timeout`` for the bot's answer."""
    state = _state(request)
    query_id = request.match_info["query_id"]
    if query_id not in state.callback_queries:
        raise ControlError(404, f"no callback query {query_id}")
    timeout = _float_query(request, "timeout", 0.0)
    if timeout > 0:
        with contextlib.suppress(TimeoutError):
            await state.wait_for_callback_answer(query_id, timeout)
    return web.json_response({"ok": True, "callback_query": state.callback_queries[query_id].view()})


async def events(request: web.Request) -> web.Response:
    """GET /sandbox/events?after=<seq>&timeout=<s>&chat_id=<id>: logged events, long-polling for new ones."""
    state = _state(request)
    after = _int(dict(request.query), "after", 0) or 0
    chat_id = _int(dict(request.query), "chat_id")
    found = await state.wait_for_events(after, _float_query(request, "timeout", 0.0), chat_id)
    return web.json_response({"ok": True, "events": [e.to_json() for e in found], "last_seq": state.last_seq})


async def events_ws(request: web.Request) -> web.WebSocketResponse:
    """GET /sandbox/ws?after=<seq>: a websocket pushing every event as JSON (backlog after ``after`` first)."""
    state = _state(request)
    after = _int(dict(request.query), "after")
    ws = web.WebSocketResponse(heartbeat=30)
    await ws.prepare(request)
    queue = state.subscribe()
    reader = asyncio.create_task(_drain(ws))
    getter: asyncio.Future | None = None
    try:
        if after is not None:
            for event in state.events_after(after):
                await ws.send_json(event.to_json())
        while not ws.closed:
            getter = asyncio.ensure_future(queue.get())
            done, _ = await asyncio.wait({getter, reader}, return_when=asyncio.FIRST_COMPLETED)
            if getter not in done:
                break
            event = getter.result()
            if event is None:
                break
            await ws.send_json(event.to_json())
    finally:
        # Also when aiohttp cancels this handler because the tab went away: no task may outlive it.
        for task in (getter, reader):
            if task is not None:
                task.cancel()
        state.unsubscribe(queue)
        await ws.close()
    return ws


async def _drain(ws: web.WebSocketResponse) -> None:
    async for _ in ws:
        pass


async def get_file(request: web.Request) -> web.StreamResponse:
    """GET /sandbox/files/{file_id}: the bytes of a user's or the bot's file."""
    state = _state(request)
    stored = state.files.get(request.match_info["file_id"])
    if stored is None:
        raise ControlError(404, "no such file")
    if stored.source_url:
        raise web.HTTPFound(stored.source_url)
    return stored_file_response(stored.data, stored.mime_type, stored.file_name)


async def status(request: web.Request) -> web.Response:
    """GET /sandbox/status: the bot identity, whether a bot is polling, queue size and counts."""
    state = _state(request)
    return web.json_response(
        {
            "ok": True,
            "bot": state.bot_user.to_api(),
            "last_poll_at": state.last_poll_at,
            "pending_updates": len(state.pending_updates),
            "webhook": (state.webhook or {}).get("url"),
            "chats": len(state.chats),
            "files": len(state.files),
            "last_seq": state.last_seq,
            "api_calls": [{"at": at, "method": name} for at, name in list(state.api_calls)[-50:]],
        }
    )


async def commands(request: web.Request) -> web.Response:
    """GET /sandbox/commands: every command list the bot set, by scope and language."""
    state = _state(request)
    lists = [
        {"scope": json.loads(scope), "language_code": lang, "commands": cmds}
        for (scope, lang), cmds in state.commands.items()
    ]
    return web.json_response({"ok": True, "command_lists": lists})


async def updates(request: web.Request) -> web.Response:
    """GET /sandbox/updates: updates queued and not yet confirmed by the bot."""
    return web.json_response({"ok": True, "updates": _state(request).pending_updates})


async def reset(request: web.Request) -> web.Response:
    """POST /sandbox/reset: forget all chats, messages, files and updates."""
    _state(request).reset()
    return web.json_response({"ok": True})


def add_routes(app: web.Application) -> None:
    """Register the /sandbox routes and their error middleware."""
    app.middlewares.append(control_errors)
    r = app.router
    r.add_post("/sandbox/send_message", send_message)
    r.add_post("/sandbox/send_location", send_location)  # before send_{kind}, which would take it for a file
    r.add_post("/sandbox/send_{kind}", send_media)
    r.add_post("/sandbox/press_button", press_button)
    r.add_post("/sandbox/chats/{chat_id}/block", block_chat)
    r.add_get("/sandbox/chats", list_chats)
    r.add_get("/sandbox/chats/{chat_id}/messages", chat_messages)
    r.add_get("/sandbox/chats/{chat_id}/next_bot_message", next_bot_message)
    r.add_get("/sandbox/callbacks/{query_id}", callback_query)
    r.add_get("/sandbox/events", events)
    r.add_get("/sandbox/ws", events_ws)
    r.add_get("/sandbox/files/{file_id}", get_file)
    r.add_get("/sandbox/status", status)
    r.add_get("/sandbox/commands", commands)
    r.add_get("/sandbox/updates", updates)
    r.add_post("/sandbox/reset", reset)
