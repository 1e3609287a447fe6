"""The Bot API side: ``/bot<token>/<method>`` routes speaking the subset of the Telegram Bot API the bot uses.

Requests are accepted the ways python-telegram-bot and others send them: ``application/x-www-form-urlencoded``
(PTB's default: every non-string value JSON-encoded, e.g. ``reply_markup``), ``multipart/form-data`` (PTB when a
file is uploaded; the file part is named after the parameter), ``application/json`` and query strings.
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from aiohttp import web

from sandbox.faults import disturb, slow_download
from sandbox.media import image_info, stored_file_response
from sandbox.state import ApiError, SandboxState, StoredFile
from sandbox.webhook_delivery import DEFAULT_MAX_CONNECTIONS

log = logging.getLogger(__name__)

STATE_KEY = web.AppKey("sandbox_state", SandboxState)

#: The one action field an inline keyboard button must have.
BUTTON_ACTIONS = (
    "callback_data",
    "url",
    "web_app",
    "login_url",
    "switch_inline_query",
    "switch_inline_query_current_chat",
    "switch_inline_query_chosen_chat",
    "copy_text",
    "callback_game",
    "pay",
)


@dataclass
class UploadedPart:
    """A file part of a multipart request."""

    name: str
    file_name: str | None
    content_type: str | None
    data: bytes


class Params:
    """Request parameters with Bot API style coercion (form values arrive as strings, often JSON-encoded)."""

    def __init__(self, values: dict[str, Any], files: dict[str, UploadedPart] | None = None) -> None:
        """Wrap the merged query/body values and uploaded files."""
        self.values = values
        self.files = files or {}

    def get(self, name: str) -> Any:
        """The raw value or None."""
        value = self.values.get(name)
        return None if value == "" and name not in ("text", "caption") else value

    def string(self, name: str) -> str | None:
        """A string parameter."""
        value = self.get(name)
        return None if value is None else str(value)

    def integer(self, name: str) -> int | None:
        """An integer parameter (400 if not an integer)."""
        value = self.get(name)
        if value is None:
            return None
        if isinstance(value, bool):
            raise ApiError.bad_request(f"invalid {name} specified")
        try:
            return int(value)
        except (TypeError, ValueError):
            raise ApiError.bad_request(f"invalid {name} specified") from None

    def number(self, name: str) -> float | None:
        """A number parameter (400 if not a number)."""
        value = self.get(name)
        if value is None:
            return None
        try:
            return float(value)
        except (TypeError, ValueError):
            raise ApiError.bad_request(f"invalid {name} specified") from None

    def flag(self, name: str) -> bool:
        """A boolean parameter (``true``/``1`` are true)."""
        value = self.get(name)
        if isinstance(value, str):
            return value.strip().lower() in ("true", "1")
        return bool(value)

    def decoded(self, name: str, error: str | None = None) -> Any:
        """A parameter that may arrive JSON-encoded (form/multipart) or as JSON already (JSON body)."""
        value = self.get(name)
        if isinstance(value, str):
            try:
                return json.loads(value)
            except ValueError:
                raise ApiError.bad_request(error or f"can't parse {name} JSON object") from None
        return value

    def chat_id(self) -> Any:
        """The chat_id parameter: an int, or a string (``@username``) the sandbox cannot resolve."""
        value = self.get("chat_id")
        if value is None:
            raise ApiError.bad_request("chat_id is empty")
        if isinstance(value, str):
            try:
                return int(value)
            except ValueError:
                return value
        return value

    def reply_to(self) -> int | None:
        """The message being replied to, from ``reply_to_message_id`` or ``reply_parameters``."""
        reply_to = self.integer("reply_to_message_id")
        params = self.decoded("reply_parameters")
        if reply_to is None and isinstance(params, dict) and params.get("message_id") is not None:
            reply_to = int(params["message_id"])
        return reply_to


def error_response(error: ApiError) -> web.Response:
    """The Bot API error envelope with the matching HTTP status."""
    return web.json_response(error.to_json(), status=error.code)


def ok_response(result: Any) -> web.Response:
    """The Bot API success envelope."""
    return web.json_response({"ok": True, "result": result})


async def read_params(request: web.Request, max_upload_bytes: int) -> Params:
    """Merge query string and body (JSON, form or multipart); 413 if an uploaded file exceeds the limit."""
    values: dict[str, Any] = dict(request.query)
    files: dict[str, UploadedPart] = {}
    if request.method != "POST" or not request.body_exists:
        return Params(values, files)
    content_type = request.content_type
    if content_type == "application/json":
        body = await request.read()
        try:
            obj = json.loads(body) if body.strip() else {}
        except ValueError:
            raise ApiError.bad_request("can't parse JSON object") from None
        if not isinstance(obj, dict):
            raise ApiError.bad_request("JSON object expected")
        values.update(obj)
    elif content_type.startswith("multipart/"):
        try:
            reader = await request.multipart()
        except (AssertionError, ValueError):
            raise ApiError.bad_request("can't parse multipart request") from None
        too_big = False
        drained = 0
        while True:
            part = await reader.next()
            if part is None:
                break
            if not hasattr(part, "read_chunk"):
                raise ApiError.bad_request("nested multipart is not supported")
            if part.filename is None:
                values[part.name or ""] = await part.text()
                continue
            chunks: list[bytes] = []
            size = 0
            while chunk := await part.read_chunk(256 * 1024):
                size += len(chunk)
                if size > max_upload_bytes:
                    too_big = True
                    drained += len(chunk)
                    if drained > 4 * max_upload_bytes + (1 << 20):
                        raise ApiError(413, "Request Entity Too Large")
                else:
                    chunks.append(chunk)
            if not too_big:
                files[part.name or ""] = UploadedPart(
                    name=part.name or "",
                    file_name=part.filename,
                    content_type=part.headers.get("Content-Type"),
                    data=b"".join(chunks),
                )
        if too_big:
            # The whole body was read, so the client sees the answer instead of a reset connection.
            raise ApiError(413, "Request Entity Too Large")
    else:
        try:
            form = await request.post()
        except web.HTTPRequestEntityTooLarge:
            raise ApiError(413, "Request Entity Too Large") from None
        for key, value in form.items():
            if isinstance(value, str):
                values[key] = value
            else:
                data = value.file.read()
                files[key] = UploadedPart(key, value.filename, value.content_type, data)
    return Params(values, files)


def normalize_reply_markup(value: Any) -> dict[str, Any] | None:
    """Validate reply_markup like Telegram does (inline keyboards strictly) and return it as a dict."""
    if value is None:
        return None
    if isinstance(value, str):
        try:
            value = json.loads(value)
        except ValueError:
            raise ApiError.bad_request("can't parse reply keyboard markup JSON object") from None
    if not isinstance(value, dict):
        raise ApiError.bad_request("can't parse reply keyboard markup JSON object")
    if "inline_keyboard" not in value:
        if not any(k in value for k in ("keyboard", "remove_keyboard", "force_reply")):
            raise ApiError.bad_request('can\'t find field "inline_keyboard"')
        return value
    rows = value["inline_keyboard"]
    if not isinstance(rows, list) or not all(isinstance(row, list) for row in rows):
        raise ApiError.bad_request('field "inline_keyboard" of the InlineKeyboardMarkup must be an Array of Arrays')
    for row in rows:
        for button in row:
            if not isinstance(button, dict):
                raise ApiError.bad_request("can't parse inline keyboard button: InlineKeyboardButton must be an Object")
            if not isinstance(button.get("text"), str) or not button["text"]:
                raise ApiError.bad_request('can\'t parse inline keyboard button: Field "text" must be of type String')
            actions = [k for k in BUTTON_ACTIONS if k in button]
            if not actions:
                raise ApiError.bad_request(
                    "can't parse inline keyboard button: Text buttons are unallowed in the inline keyboard"
                )
            if "callback_data" in button:
                data = button["callback_data"]
                if not isinstance(data, str) or not 1 <= len(data.encode("utf-8")) <= 64:
                    raise ApiError.bad_request("BUTTON_DATA_INVALID")
            if "url" in button:
                url = button["url"]
                if not isinstance(url, str) or not url.startswith(("http://", "https://", "tg://")):
                    raise ApiError.bad_request(f"inline keyboard button URL '{url}' is invalid: Wrong HTTP URL")
    return {"inline_keyboard": rows}


def _file_input(state: SandboxState, params: Params, name: str, kind: str) -> StoredFile:
    """The file for sendPhoto/sendDocument: an uploaded part, an ``attach://`` part, a known file_id or a URL."""
    upload = params.files.get(name)
    value = params.get(name)
    if upload is None and isinstance(value, str) and value.startswith("attach://"):
        upload = params.files.get(value[len("attach://") :])
        if upload is None:
            raise ApiError.bad_request(f"file for {value} is not found in the request")
    if upload is not None:
        if not upload.data:
            raise ApiError.bad_request("file must be non-empty")
        if kind == "photo" and image_info(upload.data) is None:
            raise ApiError.bad_request("IMAGE_PROCESS_FAILED")
        return state.store_file(
            upload.data, kind=kind, owner="bot", file_name=upload.file_name, mime_type=upload.content_type
        )
    if not value:
        raise ApiError.bad_request(f"there is no {name} in the request")
    value = str(value)
    if value in state.files:
        return state.files[value]
    if value.startswith(("http://", "https://")):
        # Telegram would fetch the URL; the sandbox never leaves the machine and just remembers it.
        return state.store_file(b"", kind=kind, owner="bot", file_name=value.rsplit("/", 1)[-1], source_url=value)
    raise ApiError.bad_request("wrong file identifier/HTTP URL specified")


# -- methods ------------------------------------------------------------------------------------------------

Method = Callable[[SandboxState, Params], Awaitable[Any]]
METHODS: dict[str, Method] = {}


def method(name: str) -> Callable[[Method], Method]:
    """Register a Bot API method (names are case-insensitive, as in Telegram)."""

    def register(fn: Method) -> Method:
        METHODS[name.lower()] = fn
        return fn

    return register


@method("getMe")
async def get_me(state: SandboxState, params: Params) -> Any:
    """getMe."""
    return {
        **state.bot_user.to_api(),
        "can_join_groups": True,
        "can_read_all_group_messages": not state.config.privacy_mode,
        "supports_inline_queries": False,
        "can_connect_to_business": False,
        "has_main_web_app": False,
    }


@method("logOut")
@method("close")
async def log_out(state: SandboxState, params: Params) -> Any:
    """logOut / close: nothing to do in the sandbox."""
    return True


@method("getUpdates")
async def get_updates(state: SandboxState, params: Params) -> Any:
    """getUpdates with offset confirmation and long polling (allowed_updates is ignored)."""
    return await state.next_updates(
        params.integer("offset"), params.integer("limit") or 100, params.number("timeout") or 0.0
    )


@method("setWebhook")
async def set_webhook(state: SandboxState, params: Params) -> Any:
    """setWebhook: pending and new updates are POSTed to ``url`` (sandbox.webhook_delivery); getUpdates answers 409."""
    url = params.string("url")
    if url and urlsplit(url).scheme not in ("http", "https"):
        raise ApiError.bad_request("bad webhook: HTTPS url must be provided for webhook")
    if params.flag("drop_pending_updates"):
        state.drop_pending_updates()
    max_connections = params.integer("max_connections") or DEFAULT_MAX_CONNECTIONS
    if not 1 <= max_connections <= 100:
        raise ApiError.bad_request("bad webhook: max_connections must be between 1 and 100")
    state.webhook = (
        {"url": url, "secret_token": params.string("secret_token"), "max_connections": max_connections}
        if url
        else None
    )
    state.notify_all()
    return True


@method("deleteWebhook")
async def delete_webhook(state: SandboxState, params: Params) -> Any:
    """deleteWebhook (optionally dropping pending updates)."""
    if params.flag("drop_pending_updates"):
        state.drop_pending_updates()
    state.webhook = None
    state.notify_all()
    return True


@method("getWebhookInfo")
async def get_webhook_info(state: SandboxState, params: Params) -> Any:
    """getWebhookInfo."""
    info: dict[str, Any] = {
        "url": (state.webhook or {}).get("url") or "",
        "has_custom_certificate": False,
        "pending_update_count": len(state.pending_updates),
    }
    if state.webhook and state.webhook_errors:
        at, message = state.webhook_errors[-1]
        info.update(last_error_date=int(at), last_error_message=message)
    if state.webhook:
        info["max_connections"] = state.webhook["max_connections"]
    return info


def _commands_key(params: Params) -> tuple[str, str]:
    scope = params.decoded("scope", "can't parse BotCommandScope JSON object") or {"type": "default"}
    if not isinstance(scope, dict) or "type" not in scope:
        raise ApiError.bad_request("can't parse BotCommandScope JSON object")
    return json.dumps(scope, sort_keys=True), params.string("language_code") or ""


@method("setMyCommands")
async def set_my_commands(state: SandboxState, params: Params) -> Any:
    """setMyCommands with Telegram's command/description checks."""
    commands = params.decoded("commands", "can't parse commands JSON object")
    if not isinstance(commands, list):
        raise ApiError.bad_request("can't parse commands JSON object")
    if len(commands) > 100:
        raise ApiError.bad_request("too many commands")
    clean = []
    for command in commands:
        if not isinstance(command, dict):
            raise ApiError.bad_request("can't parse BotCommand JSON object")
        name, description = str(command.get("command", "")), str(command.get("description", ""))
        if not 1 <= len(name) <= 32 or not all(c.islower() or c.isdigit() or c == "_" for c in name):
            raise ApiError.bad_request("BOT_COMMAND_INVALID")
        if not 1 <= len(description) <= 256:
            raise ApiError.bad_request("command description must be 1-256 characters")
        clean.append({"command": name, "description": description})
    state.set_commands(_commands_key(params), clean)
    return True


@method("getMyCommands")
async def get_my_commands(state: SandboxState, params: Params) -> Any:
    """getMyCommands for a scope and language."""
    return state.commands.get(_commands_key(params), [])


@method("deleteMyCommands")
async def delete_my_commands(state: SandboxState, params: Params) -> Any:
    """deleteMyCommands for a scope and language."""
    state.set_commands(_commands_key(params), None)
    return True


@method("sendMessage")
async def send_message(state: SandboxState, params: Params) -> Any:
    """sendMessage (parse_mode checked like Telegram, inline keyboards stored)."""
    chat = state.chat_for_bot(params.chat_id())
    msg = state.bot_send_text(
        chat,
        params.string("text"),
        parse_mode=params.string("parse_mode"),
        reply_markup=normalize_reply_markup(params.get("reply_markup")),
        reply_to_message_id=params.reply_to(),
    )
    return state.message_api(msg)


async def _send_file(state: SandboxState, params: Params, kind: str) -> Any:
    chat = state.chat_for_bot(params.chat_id())
    reply_markup = normalize_reply_markup(params.get("reply_markup"))
    stored = _file_input(state, params, kind, kind)
    msg = state.bot_send_file(
        chat,
        kind,
        stored,
        caption=params.string("caption"),
        parse_mode=params.string("parse_mode"),
        reply_markup=reply_markup,
        reply_to_message_id=params.reply_to(),
    )
    return state.message_api(msg)


@method("sendPhoto")
async def send_photo(state: SandboxState, params: Params) -> Any:
    """sendPhoto (multipart upload, file_id or URL)."""
    return await _send_file(state, params, "photo")


@method("sendDocument")
async def send_document(state: SandboxState, params: Params) -> Any:
    """sendDocument (multipart upload, file_id or URL)."""
    return await _send_file(state, params, "document")


@method("sendChatAction")
async def send_chat_action(state: SandboxState, params: Params) -> Any:
    """sendChatAction."""
    state.set_chat_action(state.chat_for_bot(params.chat_id()), params.string("action"))
    return True


def _message_to_edit(state: SandboxState, params: Params) -> Any:
    chat_id = params.get("chat_id")
    return state.message_for_edit(
        params.chat_id() if chat_id is not None else None, params.integer("message_id"), params.get("inline_message_id")
    )


def _edit_content(state: SandboxState, params: Params, field: str) -> Any:
    """editMessageText / editMessageCaption: ``field`` is the parameter that carries the new content."""
    msg = _message_to_edit(state, params)
    state.edit_message(
        msg,
        **{field: params.string(field)},
        parse_mode=params.string("parse_mode"),
        reply_markup=normalize_reply_markup(params.get("reply_markup")),
        what=field,
    )
    return state.message_api(msg)


@method("editMessageText")
async def edit_message_text(state: SandboxState, params: Params) -> Any:
    """editMessageText (an omitted reply_markup removes the keyboard, as in Telegram)."""
    return _edit_content(state, params, "text")


@method("editMessageCaption")
async def edit_message_caption(state: SandboxState, params: Params) -> Any:
    """editMessageCaption."""
    return _edit_content(state, params, "caption")


@method("editMessageReplyMarkup")
async def edit_message_reply_markup(state: SandboxState, params: Params) -> Any:
    """editMessageReplyMarkup (no reply_markup removes the keyboard)."""
    msg = _message_to_edit(state, params)
    state.edit_message(msg, reply_markup=normalize_reply_markup(params.get("reply_markup")), what="markup")
    return state.message_api(msg)


@method("deleteMessage")
async def delete_message(state: SandboxState, params: Params) -> Any:
    """deleteMessage."""
    chat = state.chat_for_bot(params.chat_id())
    msg = state.get_message(chat.id, params.integer("message_id"))
    if msg is None or msg.deleted:
        raise ApiError.bad_request("message to delete not found")
    state.delete_message(msg)
    return True


@method("answerCallbackQuery")
async def answer_callback_query(state: SandboxState, params: Params) -> Any:
    """answerCallbackQuery (each query can be answered once)."""
    text = params.string("text")
    if text is not None and len(text) > 200:
        raise ApiError.bad_request("MESSAGE_TOO_LONG")
    answer = {
        "text": text,
        "show_alert": params.flag("show_alert"),
        "url": params.string("url"),
        "cache_time": params.integer("cache_time"),
    }
    state.answer_callback(params.string("callback_query_id"), answer)
    return True


@method("getFile")
async def get_file(state: SandboxState, params: Params) -> Any:
    """getFile: file_path is relative; download it from ``/file/bot<token>/<file_path>``."""
    file_id = params.string("file_id")
    if not file_id:
        raise ApiError.bad_request("file_id is empty")
    stored = state.files.get(file_id)
    if stored is None:
        raise ApiError.bad_request("invalid file_id")
    if stored.size > state.config.max_download_bytes:
        raise ApiError.bad_request("file is too big")
    return stored.to_api()


# -- routes -------------------------------------------------------------------------------------------------


async def handle_method(request: web.Request) -> web.Response:
    """``/bot<token>/<method>``: check the token, find the method, parse parameters, answer in the envelope."""
    state = request.app[STATE_KEY]
    token = request.match_info["token"]
    name = request.match_info["method"]
    if token != state.config.token:
        log.info("bot api: rejected token for %s", name)
        return error_response(ApiError(401, "Unauthorized"))
    fn = METHODS.get(name.lower())
    if fn is None:
        return error_response(ApiError(404, "Not Found"))
    state.api_calls.append((time.time(), name))
    faulty = await disturb(request, state.config.faults, name.lower())
    if faulty is not None:
        log.info("bot api: %s -> injected %d", name, faulty.status)
        return faulty
    try:
        params = await read_params(request, state.config.max_upload_bytes)
        result = await fn(state, params)
    except ApiError as exc:
        log.info("bot api: %s -> %d %s", name, exc.code, exc.description)
        return error_response(exc)
    log.debug("bot api: %s ok", name)
    return ok_response(result)


async def handle_file_download(request: web.Request) -> web.StreamResponse:
    """``/file/bot<token>/<file_path>``: the bytes of a stored file."""
    state = request.app[STATE_KEY]
    if request.match_info["token"] != state.config.token:
        return error_response(ApiError(401, "Unauthorized"))
    stored = state.file_by_path(request.match_info["file_path"])
    if stored is None or stored.source_url:
        return error_response(ApiError(404, "Not Found"))
    await slow_download(state.config.faults)
    return stored_file_response(stored.data, stored.mime_type, stored.file_name)


def add_routes(app: web.Application) -> None:
    """Register the Bot API and file download routes."""
    app.router.add_route("*", "/bot{token}/{method}", handle_method)
    app.router.add_get("/file/bot{token}/{file_path:.+}", handle_file_download)
