"""In-memory world of the sandbox: chats, messages, files, the update queue, callback queries and an event feed.

Everything here runs on one asyncio loop and is synchronous except the ``wait_*`` helpers, so no locks are
needed.  Every change is published as an :class:`Event` (kept in a bounded log and pushed to subscribers), which
is what long-poll endpoints, tests and a future browser page (websocket) wait on.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import logging
import secrets
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, TypeVar

from sandbox.faults import FaultPlan
from sandbox.formatting import FormattingError, validate_and_plain
from sandbox.media import extension_for, guess_mime, image_info

log = logging.getLogger(__name__)

T = TypeVar("T")

DEFAULT_TOKEN = "123456789:SANDBOX-moodlens-token"

#: Media kinds a sandbox user can send, with the folder Telegram uses for their file paths.
FILE_FOLDERS = {
    "photo": "photos",
    "document": "documents",
    "sticker": "stickers",
    "video": "videos",
    "video_note": "video_notes",
    "voice": "voice",
    "animation": "animations",
}

CHAT_ACTIONS = frozenset(
    {
        "typing",
        "upload_photo",
        "record_video",
        "upload_video",
        "record_voice",
        "upload_voice",
        "upload_document",
        "choose_sticker",
        "find_location",
        "record_video_note",
        "upload_video_note",
    }
)

MAX_TEXT = 4096
MAX_CAPTION = 1024
NOT_MODIFIED = (
    "message is not modified: specified new message content and reply markup are exactly the same as a "
    "current content and reply markup of the message"
)


class ApiError(Exception):
    """An error the Bot API would return: HTTP status ``code`` and the ``description`` text."""

    def __init__(self, code: int, description: str) -> None:
        """Keep the status code and description."""
        super().__init__(description)
        self.code = code
        self.description = description

    @classmethod
    def bad_request(cls, message: str) -> ApiError:
        """A 400 ``Bad Request: <message>``."""
        return cls(400, f"Bad Request: {message}")

    def to_json(self) -> dict[str, Any]:
        """The Bot API error envelope."""
        return {"ok": False, "error_code": self.code, "description": self.description}


def utf16_len(text: str) -> int:
    """Length in UTF-16 code units (the unit of Telegram entity offsets)."""
    return len(text.encode("utf-16-le")) // 2


@dataclass
class SandboxConfig:
    """Settings of one sandbox server."""

    token: str = DEFAULT_TOKEN
    bot_first_name: str = "MoodLens Sandbox"
    bot_username: str = "moodlens_sandbox_bot"
    max_upload_bytes: int = 50 * 1024 * 1024
    max_download_bytes: int = 20 * 1024 * 1024
    max_long_poll_s: float = 50.0
    #: Like a real bot with privacy mode on: in groups only commands, mentions and replies to the bot arrive.
    privacy_mode: bool = True
    event_log_size: int = 5000
    #: Injected failures of the Bot API (none by default; see sandbox.faults).
    faults: FaultPlan = field(default_factory=FaultPlan)

    @property
    def bot_id(self) -> int:
        """The bot's user id: the digits before ``:`` in the token (as in real tokens)."""
        head = self.token.split(":", 1)[0]
        return int(head) if head.isdigit() else 1


@dataclass
class User:
    """A Telegram user (a sandbox person or the bot)."""

    id: int
    first_name: str
    is_bot: bool = False
    last_name: str | None = None
    username: str | None = None
    language_code: str | None = None

    def to_api(self) -> dict[str, Any]:
        """The Bot API ``User`` object."""
        data: dict[str, Any] = {"id": self.id, "is_bot": self.is_bot, "first_name": self.first_name}
        for key in ("last_name", "username", "language_code"):
            value = getattr(self, key)
            if value is not None:
                data[key] = value
        return data


@dataclass
class Chat:
    """A private chat or a group."""

    id: int
    type: str = "private"
    title: str | None = None
    first_name: str | None = None
    last_name: str | None = None
    username: str | None = None
    #: The user blocked the bot: bot sends fail with 403.
    blocked: bool = False

    def to_api(self) -> dict[str, Any]:
        """The Bot API ``Chat`` object."""
        data: dict[str, Any] = {"id": self.id, "type": self.type}
        for key in ("title", "first_name", "last_name", "username"):
            value = getattr(self, key)
            if value is not None:
                data[key] = value
        return data


@dataclass
class StoredFile:
    """Bytes uploaded by a user or the bot, reachable by ``file_id`` (getFile) and ``file_path`` (download)."""

    file_id: str
    file_unique_id: str
    file_path: str
    data: bytes
    mime_type: str
    owner: str  # "user" or "bot"
    file_name: str | None = None
    width: int | None = None
    height: int | None = None
    source_url: str | None = None  # bot sent a URL: the sandbox never fetches it

    @property
    def size(self) -> int:
        """Size in bytes."""
        return len(self.data)

    @property
    def url(self) -> str:
        """Where a browser or test can fetch the bytes (relative to the server)."""
        return self.source_url or f"/sandbox/files/{self.file_id}"

    def to_api(self) -> dict[str, Any]:
        """The Bot API ``File`` object (``file_path`` relative, as Telegram returns it)."""
        data: dict[str, Any] = {"file_id": self.file_id, "file_unique_id": self.file_unique_id, "file_size": self.size}
        if not self.source_url:
            data["file_path"] = self.file_path
        return data


@dataclass
class Message:
    """One message in a chat, from a user or from the bot."""

    message_id: int
    chat: Chat
    from_user: User
    date: int
    kind: str  # text, photo, document, sticker, video, video_note, voice, animation, location
    text: str | None = None  # visible text (markup removed)
    source_text: str | None = None  # text as sent, with HTML/Markdown markup
    caption: str | None = None
    source_caption: str | None = None
    parse_mode: str | None = None
    entities: list[dict[str, Any]] = field(default_factory=list)
    media: Any = None  # the API object for the kind: list of PhotoSize for photos, a dict otherwise
    file_id: str | None = None  # the main file (largest photo size)
    reply_markup: dict[str, Any] | None = None
    reply_to_message_id: int | None = None
    edit_date: int | None = None
    deleted: bool = False
    delivered: bool = True  # user messages: whether an update was queued for the bot

    @property
    def sender(self) -> str:
        """``"bot"`` or ``"user"``."""
        return "bot" if self.from_user.is_bot else "user"

    @property
    def edited(self) -> bool:
        """Whether the bot edited the message."""
        return self.edit_date is not None

    @property
    def inline_keyboard(self) -> list[list[dict[str, Any]]]:
        """The inline keyboard rows (empty if none)."""
        if self.reply_markup and isinstance(self.reply_markup.get("inline_keyboard"), list):
            return self.reply_markup["inline_keyboard"]
        return []

    def find_button(self, *, callback_data: str | None = None, text: str | None = None) -> dict[str, Any] | None:
        """The inline button with this callback_data (or, failing that, this text)."""
        for row in self.inline_keyboard:
            for button in row:
                if callback_data is not None and button.get("callback_data") == callback_data:
                    return button
                if callback_data is None and text is not None and button.get("text") == text:
                    return button
        return None

    def to_api(self, reply_to: Message | None = None) -> dict[str, Any]:
        """The Bot API ``Message`` object."""
        data: dict[str, Any] = {
            "message_id": self.message_id,
            "from": self.from_user.to_api(),
            "chat": self.chat.to_api(),
            "date": self.date,
        }
        if self.edit_date is not None:
            data["edit_date"] = self.edit_date
        if self.kind == "text":
            data["text"] = self.text or ""
        else:
            data[self.kind] = self.media
            if self.kind == "animation":
                data["document"] = self.media  # Telegram sends animations as both
            if self.caption is not None:
                data["caption"] = self.caption
        if self.entities:
            data["entities" if self.kind == "text" else "caption_entities"] = self.entities
        if self.inline_keyboard:
            data["reply_markup"] = {"inline_keyboard": self.inline_keyboard}
        if reply_to is not None:
            data["reply_to_message"] = reply_to.to_api()
        return data


@dataclass
class CallbackQueryRecord:
    """A button press and, once the bot answers, its answerCallbackQuery parameters."""

    id: str
    chat_id: int
    message_id: int
    data: str
    from_user: User
    created_at: float
    answered: bool = False
    answer: dict[str, Any] | None = None
    answered_at: float | None = None

    def view(self) -> dict[str, Any]:
        """JSON for the control API."""
        return {
            "callback_query_id": self.id,
            "chat_id": self.chat_id,
            "message_id": self.message_id,
            "data": self.data,
            "user_id": self.from_user.id,
            "created_at": self.created_at,
            "answered": self.answered,
            "answer": self.answer,
            "answered_at": self.answered_at,
        }


@dataclass
class ChatAction:
    """The last sendChatAction in a chat."""

    action: str
    at: float
    ended: bool = False  # a bot message arrived after it

    @property
    def active(self) -> bool:
        """Whether a client would still show it (5 seconds, or until the bot's next message)."""
        return not self.ended and time.time() - self.at < 5.0

    def view(self) -> dict[str, Any]:
        """JSON for the control API."""
        return {"action": self.action, "at": self.at, "active": self.active}


@dataclass
class Event:
    """Something that changed, for long-pollers and subscribers (e.g. a browser page over a websocket)."""

    seq: int
    type: str  # chat, message, edited, deleted, chat_action, callback_query, callback_answer, commands, reset
    chat_id: int | None
    at: float
    payload: dict[str, Any] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        """JSON for the control API and websocket."""
        return {"seq": self.seq, "type": self.type, "chat_id": self.chat_id, "at": self.at, **self.payload}


class SandboxState:
    """The whole sandbox world; the Bot API, the control API and tests all act on one instance."""

    def __init__(self, config: SandboxConfig | None = None) -> None:
        """Start empty with ``config`` (defaults if omitted)."""
        self.config = config or SandboxConfig()
        self.bot_user = User(
            id=self.config.bot_id,
            first_name=self.config.bot_first_name,
            is_bot=True,
            username=self.config.bot_username,
        )
        self._subscribers: set[asyncio.Queue[Event | None]] = set()
        self._tick: asyncio.Event | None = None
        self._seq = 0
        self.closed = False
        self._poll_generation = 0
        self.last_poll_at: float | None = None
        self.webhook: dict[str, Any] | None = None
        #: (time, reason) of failed webhook deliveries, newest last (getWebhookInfo shows the last one).
        self.webhook_errors: deque[tuple[float, str]] = deque(maxlen=100)
        self.events: deque[Event] = deque(maxlen=self.config.event_log_size)
        self._clear()

    def _clear(self) -> None:
        self.users: dict[int, User] = {}
        self.chats: dict[int, Chat] = {}
        self._messages: dict[int, dict[int, Message]] = {}
        self._next_message_id: dict[int, int] = {}
        self.files: dict[str, StoredFile] = {}
        self._files_by_path: dict[str, StoredFile] = {}
        self._file_counter = itertools.count(1)
        self._updates: list[dict[str, Any]] = []
        self._next_update_id = 1
        self.callback_queries: dict[str, CallbackQueryRecord] = {}
        self._callback_counter = itertools.count(1)
        self.chat_actions: dict[int, ChatAction] = {}
        self.commands: dict[tuple[str, str], list[dict[str, str]]] = {}
        self.api_calls: deque[tuple[float, str]] = deque(maxlen=1000)

    # -- events and waiting ---------------------------------------------------------------------------

    def notify_all(self) -> None:
        """Wake every waiter (long polls, webhook delivery) to look at the state again."""
        self._notify()

    def _notify(self) -> None:
        if self._tick is not None:
            self._tick.set()
            self._tick = None

    def publish(self, type_: str, chat_id: int | None, **payload: Any) -> Event:
        """Record an event, push it to subscribers and wake every waiter."""
        self._seq += 1
        event = Event(seq=self._seq, type=type_, chat_id=chat_id, at=time.time(), payload=payload)
        self.events.append(event)
        for queue in list(self._subscribers):
            try:
                queue.put_nowait(event)
            except asyncio.QueueFull:
                log.warning("dropping a slow event subscriber")
                self._subscribers.discard(queue)
        self._notify()
        return event

    @property
    def last_seq(self) -> int:
        """Sequence number of the latest event."""
        return self._seq

    def subscribe(self, maxsize: int = 1000) -> asyncio.Queue[Event | None]:
        """A queue receiving every future :class:`Event` (``None`` when the sandbox closes)."""
        queue: asyncio.Queue[Event | None] = asyncio.Queue(maxsize=maxsize)
        self._subscribers.add(queue)
        return queue

    def unsubscribe(self, queue: asyncio.Queue[Event | None]) -> None:
        """Stop delivering events to ``queue``."""
        self._subscribers.discard(queue)

    async def wait_for(self, predicate: Callable[[], T | None], timeout: float) -> T:
        """Wait until ``predicate()`` returns something other than None/False; raise TimeoutError after ``timeout``."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + max(timeout, 0.0)
        while True:
            result = predicate()
            if result is not None and result is not False:
                return result
            remaining = deadline - loop.time()
            if self.closed or remaining <= 0:
                raise TimeoutError("sandbox: condition not met in time" if not self.closed else "sandbox closed")
            if self._tick is None:
                self._tick = asyncio.Event()
            tick = self._tick
            with contextlib.suppress(asyncio.TimeoutError):
                await asyncio.wait_for(tick.wait(), remaining)

    async def wait_for_bot_message(self, chat_id: int, after_id: int = 0, timeout: float = 5.0) -> Message:
        """The first bot message in ``chat_id`` with id > ``after_id``, waiting up to ``timeout`` seconds."""
        return await self.wait_for_message(chat_id, after_id, timeout, sender="bot")

    async def wait_for_message(
        self, chat_id: int, after_id: int = 0, timeout: float = 5.0, sender: str | None = None
    ) -> Message:
        """The first (non-deleted) message in the chat after ``after_id``, optionally only from ``sender``."""

        def find() -> Message | None:
            for msg in self._messages.get(chat_id, {}).values():
                if msg.message_id > after_id and not msg.deleted and (sender is None or msg.sender == sender):
                    return msg
            return None

        return await self.wait_for(find, timeout)

    async def wait_for_callback_answer(self, callback_query_id: str, timeout: float = 5.0) -> CallbackQueryRecord:
        """The callback query once the bot has answered it."""

        def answered() -> CallbackQueryRecord | None:
            record = self.callback_queries.get(callback_query_id)
            return record if record and record.answered else None

        return await self.wait_for(answered, timeout)

    def events_after(self, seq: int, chat_id: int | None = None) -> list[Event]:
        """Logged events with ``seq`` greater than the given one (optionally for one chat)."""
        return [e for e in self.events if e.seq > seq and (chat_id is None or e.chat_id in (chat_id, None))]

    async def wait_for_events(self, after_seq: int, timeout: float, chat_id: int | None = None) -> list[Event]:
        """Events after ``after_seq``, waiting up to ``timeout`` for at least one (empty list on timeout)."""
        try:
            return await self.wait_for(lambda: self.events_after(after_seq, chat_id) or None, timeout)
        except TimeoutError:
            return []

    # -- messages and files ---------------------------------------------------------------------------

    def message_view(self, msg: Message) -> dict[str, Any]:
        """The control-API/browser view of a message (file URLs relative to the server)."""
        view: dict[str, Any] = {
            "message_id": msg.message_id,
            "chat_id": msg.chat.id,
            "sender": msg.sender,
            "from": msg.from_user.to_api(),
            "date": msg.date,
            "kind": msg.kind,
            "text": msg.text,
            "caption": msg.caption,
            "source_text": msg.source_text if msg.kind == "text" else msg.source_caption,
            "parse_mode": msg.parse_mode,
            "file": None,
            "buttons": [
                [{k: b.get(k) for k in ("text", "callback_data", "url") if k in b} for b in row]
                for row in msg.inline_keyboard
            ],
            "reply_markup": msg.reply_markup,
            "reply_to_message_id": msg.reply_to_message_id,
            "edited": msg.edited,
            "edit_date": msg.edit_date,
            "deleted": msg.deleted,
        }
        if msg.sender == "user":
            view["delivered"] = msg.delivered
        stored = self.files.get(msg.file_id) if msg.file_id else None
        if stored is not None:
            view["file"] = {
                "file_id": stored.file_id,
                "url": stored.url,
                "file_name": stored.file_name,
                "mime_type": stored.mime_type,
                "size": stored.size,
                "width": stored.width,
                "height": stored.height,
            }
        return view

    def message_api(self, msg: Message) -> dict[str, Any]:
        """The Bot API object of ``msg`` including the message it replies to."""
        reply_to = self.get_message(msg.chat.id, msg.reply_to_message_id) if msg.reply_to_message_id else None
        return msg.to_api(reply_to)

    def get_message(self, chat_id: int, message_id: int | None) -> Message | None:
        """A message by chat and id (deleted ones included), or None."""
        if message_id is None:
            return None
        return self._messages.get(chat_id, {}).get(message_id)

    def transcript(self, chat_id: int, after: int = 0) -> list[Message]:
        """All messages of the chat with id > ``after``, oldest first."""
        return [m for m in self._messages.get(chat_id, {}).values() if m.message_id > after]

    def _add_message(self, chat: Chat, from_user: User, kind: str, **fields: Any) -> Message:
        message_id = self._next_message_id.get(chat.id, 1)
        self._next_message_id[chat.id] = message_id + 1
        msg = Message(message_id=message_id, chat=chat, from_user=from_user, date=int(time.time()), kind=kind, **fields)
        self._messages.setdefault(chat.id, {})[message_id] = msg
        return msg

    def store_file(
        self,
        data: bytes,
        *,
        kind: str,
        owner: str,
        file_name: str | None = None,
        mime_type: str | None = None,
        source_url: str | None = None,
    ) -> StoredFile:
        """Keep bytes under a new file_id and file_path."""
        n = next(self._file_counter)
        mime = guess_mime(file_name, mime_type, data)
        info = image_info(data) if data else None
        folder = FILE_FOLDERS.get(kind, "documents")
        token = secrets.token_hex(4)
        stored = StoredFile(
            file_id=f"SBX{kind[:3].upper()}{n:06d}{token}",
            file_unique_id=f"U{n:06d}{token[:4]}",
            file_path=f"{folder}/file_{n}.{extension_for(mime, file_name)}",
            data=data,
            mime_type=mime,
            owner=owner,
            file_name=file_name,
            width=info[1] if info else None,
            height=info[2] if info else None,
            source_url=source_url,
        )
        self.files[stored.file_id] = stored
        self._files_by_path[stored.file_path] = stored
        return stored

    def file_by_path(self, file_path: str) -> StoredFile | None:
        """The stored file with this file_path."""
        return self._files_by_path.get(file_path)

    def media_object(self, kind: str, stored: StoredFile, *, emoji: str | None = None) -> Any:
        """The Bot API media object (PhotoSize list, Document, Sticker, ...) for a stored file."""
        base = {"file_id": stored.file_id, "file_unique_id": stored.file_unique_id, "file_size": stored.size}
        width, height = stored.width or 512, stored.height or 512
        if kind == "photo":
            return [{**base, "width": width, "height": height}]
        if kind == "sticker":
            return {
                **base,
                "type": "regular",
                "width": width,
                "height": height,
                "is_animated": False,
                "is_video": stored.mime_type.startswith("video/"),
                "emoji": emoji or "🙂",
            }
        if kind == "video_note":
            return {**base, "length": min(width, height), "duration": 1}
        if kind == "voice":
            return {**base, "duration": 1, "mime_type": stored.mime_type}
        media = {**base, "mime_type": stored.mime_type}
        if stored.file_name:
            media["file_name"] = stored.file_name
        if kind in ("video", "animation"):
            media.update(width=width, height=height, duration=1)
        return media

    # -- the user side --------------------------------------------------------------------------------

    def register_user(
        self,
        user_id: int,
        first_name: str | None = None,
        *,
        last_name: str | None = None,
        username: str | None = None,
        language_code: str | None = "en",
    ) -> User:
        """Create or update a sandbox person."""
        user = self.users.get(user_id)
        if user is None:
            user = User(id=user_id, first_name=first_name or f"User {user_id}", language_code=language_code or "en")
            self.users[user_id] = user
        if first_name:
            user.first_name = first_name
        if last_name is not None:
            user.last_name = last_name
        if username is not None:
            user.username = username
        if language_code is not None:
            user.language_code = language_code
        return user

    def open_chat(
        self, user: User, chat_id: int | None = None, chat_type: str = "private", title: str | None = None
    ) -> Chat:
        """The chat a user writes in: private (id = user id) by default, or a group."""
        if chat_type not in ("private", "group", "supergroup"):
            raise ValueError(f"unsupported chat type {chat_type!r}")
        if chat_id is None:
            chat_id = user.id if chat_type == "private" else -abs(user.id)
        if chat_type == "private" and chat_id != user.id:
            raise ValueError("a private chat's id is the user's id")
        if chat_type != "private" and chat_id >= 0:
            raise ValueError("group chat ids are negative")
        chat = self.chats.get(chat_id)
        if chat is None:
            chat = Chat(id=chat_id, type=chat_type)
            self.chats[chat_id] = chat
            self.publish("chat", chat_id, chat=self.chat_view(chat))
        if chat.type == "private":
            chat.first_name, chat.last_name, chat.username = user.first_name, user.last_name, user.username
        else:
            chat.title = title or chat.title or f"Group {chat_id}"
        return chat

    def chat_view(self, chat: Chat) -> dict[str, Any]:
        """JSON for the control API's chat list."""
        messages = self._messages.get(chat.id, {})
        return {**chat.to_api(), "blocked": chat.blocked, "last_message_id": max(messages, default=0)}

    def _enqueue_update(self, kind: str, payload: dict[str, Any]) -> int:
        update_id = self._next_update_id
        self._next_update_id += 1
        self._updates.append({"update_id": update_id, kind: payload})
        self._notify()
        return update_id

    def _visible_to_bot(self, chat: Chat, text: str | None, reply_to: Message | None) -> bool:
        if chat.type == "private" or not self.config.privacy_mode:
            return True
        if reply_to is not None and reply_to.sender == "bot":
            return True
        return bool(text and (text.startswith("/") or f"@{self.bot_user.username}".lower() in text.lower()))

    def _deliver_user_message(self, msg: Message) -> Message:
        reply_to = self.get_message(msg.chat.id, msg.reply_to_message_id)
        msg.delivered = self._visible_to_bot(msg.chat, msg.text if msg.kind == "text" else msg.caption, reply_to)
        if msg.delivered:
            self._enqueue_update("message", self.message_api(msg))
        self.publish("message", msg.chat.id, message_id=msg.message_id, message=self.message_view(msg))
        return msg

    def user_send_text(self, user: User, chat: Chat, text: str, *, reply_to_message_id: int | None = None) -> Message:
        """A person sends text (a leading ``/command`` gets its bot_command entity); queues the update."""
        if not text:
            raise ValueError("text is empty")
        entities = []
        if text.startswith("/"):
            command = text.split(maxsplit=1)[0]
            entities.append({"type": "bot_command", "offset": 0, "length": utf16_len(command)})
        msg = self._add_message(
            chat, user, "text", text=text, source_text=text, entities=entities, reply_to_message_id=reply_to_message_id
        )
        return self._deliver_user_message(msg)

    def user_send_location(self, user: User, chat: Chat, latitude: float, longitude: float) -> Message:
        """A person shares a location (Telegram's "send my location"); queues the update."""
        if not (-90 <= latitude <= 90 and -180 <= longitude <= 180):
            raise ValueError("latitude must be in [-90, 90] and longitude in [-180, 180]")
        msg = self._add_message(chat, user, "location", media={"latitude": latitude, "longitude": longitude})
        return self._deliver_user_message(msg)

    def user_send_file(
        self,
        user: User,
        chat: Chat,
        kind: str,
        data: bytes,
        *,
        file_name: str | None = None,
        mime_type: str | None = None,
        caption: str | None = None,
        emoji: str | None = None,
    ) -> Message:
        """A person sends a photo, document, sticker, video, video note, voice or animation; queues the update."""
        if kind not in FILE_FOLDERS:
            raise ValueError(f"unsupported media kind {kind!r}")
        if kind == "photo" and image_info(data) is None:
            raise ValueError("a photo must be a JPEG, PNG, GIF or WebP image")
        stored = self.store_file(data, kind=kind, owner="user", file_name=file_name, mime_type=mime_type)
        if kind == "document" and not stored.file_name:
            stored.file_name = f"file_{stored.file_unique_id}.{extension_for(stored.mime_type)}"
        media = self.media_object(kind, stored, emoji=emoji)
        msg = self._add_message(
            chat,
            user,
            kind,
            caption=caption,
            source_caption=caption,
            media=media,
            file_id=stored.file_id,
        )
        return self._deliver_user_message(msg)

    def press_button(
        self,
        user: User,
        chat_id: int,
        message_id: int,
        *,
        callback_data: str | None = None,
        button_text: str | None = None,
        data: str | None = None,
    ) -> CallbackQueryRecord:
        """A person presses an inline button (or, with ``data``, sends arbitrary callback data); queues the update."""
        msg = self.get_message(chat_id, message_id)
        if msg is None or msg.deleted:
            raise LookupError(f"no message {message_id} in chat {chat_id}")
        if msg.sender != "bot":
            raise ValueError("only bot messages have inline buttons")
        if data is None:
            button = msg.find_button(callback_data=callback_data, text=button_text)
            if button is None or "callback_data" not in button:
                raise LookupError(f"message {message_id} has no such callback button")
            data = button["callback_data"]
        query_id = f"{next(self._callback_counter)}{secrets.randbelow(10**9):09d}"
        record = CallbackQueryRecord(
            id=query_id, chat_id=chat_id, message_id=message_id, data=data, from_user=user, created_at=time.time()
        )
        self.callback_queries[query_id] = record
        payload = {
            "id": query_id,
            "from": user.to_api(),
            "message": self.message_api(msg),
            "chat_instance": f"{abs(chat_id) * 7919 % 10**12}",
            "data": data,
        }
        self._enqueue_update("callback_query", payload)
        self.publish("callback_query", chat_id, callback_query=record.view())
        return record

    def set_blocked(self, chat_id: int, blocked: bool) -> Chat:
        """Make the person block (or unblock) the bot in a private chat."""
        chat = self.chats.get(chat_id)
        if chat is None:
            raise LookupError(f"no chat {chat_id}")
        chat.blocked = blocked
        self.publish("chat", chat_id, chat=self.chat_view(chat))
        return chat

    # -- the bot side (raise ApiError like the real API) ----------------------------------------------

    def chat_for_bot(self, chat_id: int | str | None) -> Chat:
        """The chat the bot addresses; 400 if missing/unknown, 403 if the user blocked the bot."""
        if chat_id is None or chat_id == "":
            raise ApiError.bad_request("chat_id is empty")
        if isinstance(chat_id, str):
            try:
                chat_id = int(chat_id)
            except ValueError:
                raise ApiError.bad_request("chat not found") from None
        chat = self.chats.get(chat_id)
        if chat is None:
            raise ApiError.bad_request("chat not found")
        if chat.blocked:
            raise ApiError(403, "Forbidden: bot was blocked by the user")
        return chat

    @staticmethod
    def _formatted(text: str, parse_mode: str | None, *, limit: int, what: str) -> str:
        try:
            plain = validate_and_plain(text, parse_mode)
        except FormattingError as exc:
            if str(exc).startswith("unsupported parse_mode"):
                raise ApiError.bad_request("unsupported parse_mode") from None
            raise ApiError.bad_request(f"can't parse entities: {exc}") from None
        if what == "text" and not plain.strip():
            raise ApiError.bad_request("message text is empty")
        if utf16_len(plain) > limit:
            raise ApiError.bad_request("message is too long" if what == "text" else "message caption is too long")
        return plain

    def bot_send_text(
        self,
        chat: Chat,
        text: str | None,
        *,
        parse_mode: str | None = None,
        reply_markup: dict[str, Any] | None = None,
        reply_to_message_id: int | None = None,
    ) -> Message:
        """sendMessage."""
        if not text:
            raise ApiError.bad_request("message text is empty")
        plain = self._formatted(text, parse_mode, limit=MAX_TEXT, what="text")
        self._check_reply_target(chat, reply_to_message_id)
        msg = self._add_message(
            chat,
            self.bot_user,
            "text",
            text=plain,
            source_text=text,
            parse_mode=parse_mode,
            reply_markup=reply_markup,
            reply_to_message_id=reply_to_message_id,
        )
        return self._bot_message_added(msg)

    def bot_send_file(
        self,
        chat: Chat,
        kind: str,
        stored: StoredFile,
        *,
        caption: str | None = None,
        parse_mode: str | None = None,
        reply_markup: dict[str, Any] | None = None,
        reply_to_message_id: int | None = None,
    ) -> Message:
        """sendPhoto / sendDocument / ... with an already stored file."""
        plain = self._formatted(caption, parse_mode, limit=MAX_CAPTION, what="caption") if caption else None
        self._check_reply_target(chat, reply_to_message_id)
        msg = self._add_message(
            chat,
            self.bot_user,
            kind,
            caption=plain,
            source_caption=caption,
            parse_mode=parse_mode if caption else None,
            media=self.media_object(kind, stored),
            file_id=stored.file_id,
            reply_markup=reply_markup,
            reply_to_message_id=reply_to_message_id,
        )
        return self._bot_message_added(msg)

    def _check_reply_target(self, chat: Chat, reply_to_message_id: int | None) -> None:
        if reply_to_message_id is None:
            return
        target = self.get_message(chat.id, reply_to_message_id)
        if target is None or target.deleted:
            raise ApiError.bad_request("message to be replied not found")

    def _bot_message_added(self, msg: Message) -> Message:
        action = self.chat_actions.get(msg.chat.id)
        if action is not None:
            action.ended = True  # clients stop showing "typing..." once a message arrives
        self.publish("message", msg.chat.id, message_id=msg.message_id, message=self.message_view(msg))
        return msg

    def message_for_edit(self, chat_id: Any, message_id: Any, inline_message_id: Any = None) -> Message:
        """The bot message an edit refers to; 400 errors as Telegram words them."""
        if inline_message_id is not None and chat_id is None:
            raise ApiError.bad_request("inline messages are not supported by the sandbox")
        chat = self.chat_for_bot(chat_id)
        if message_id is None:
            raise ApiError.bad_request("message identifier is not specified")
        msg = self.get_message(chat.id, message_id)
        if msg is None or msg.deleted:
            raise ApiError.bad_request("message to edit not found")
        if msg.sender != "bot":
            raise ApiError.bad_request("message can't be edited")
        return msg

    def edit_message(
        self,
        msg: Message,
        *,
        text: str | None = None,
        caption: str | None = None,
        parse_mode: str | None = None,
        reply_markup: dict[str, Any] | None = None,
        what: str = "text",
    ) -> Message:
        """editMessageText / editMessageCaption / editMessageReplyMarkup (an omitted keyboard is removed)."""
        markup = reply_markup if reply_markup and reply_markup.get("inline_keyboard") else None
        new_text, new_source, new_caption, new_source_caption = (
            msg.text,
            msg.source_text,
            msg.caption,
            msg.source_caption,
        )
        new_parse_mode = msg.parse_mode
        if what == "text":
            if msg.kind != "text":
                raise ApiError.bad_request("there is no text in the message to edit")
            if not text:
                raise ApiError.bad_request("message text is empty")
            new_text = self._formatted(text, parse_mode, limit=MAX_TEXT, what="text")
            new_source, new_parse_mode = text, parse_mode
        elif what == "caption":
            if msg.kind == "text":
                raise ApiError.bad_request("there is no caption in the message to edit")
            new_caption = self._formatted(caption, parse_mode, limit=MAX_CAPTION, what="caption") if caption else None
            new_source_caption, new_parse_mode = caption, parse_mode if caption else None
        old_markup = msg.inline_keyboard or None
        new_markup = markup["inline_keyboard"] if markup else None
        if (new_source, new_source_caption, new_parse_mode, new_markup) == (
            msg.source_text,
            msg.source_caption,
            msg.parse_mode,
            old_markup,
        ):
            raise ApiError.bad_request(NOT_MODIFIED)
        msg.text, msg.source_text, msg.caption, msg.source_caption = (
            new_text,
            new_source,
            new_caption,
            new_source_caption,
        )
        msg.parse_mode = new_parse_mode
        msg.reply_markup = markup
        msg.edit_date = int(time.time())
        self.publish("edited", msg.chat.id, message_id=msg.message_id, message=self.message_view(msg))
        return msg

    def delete_message(self, msg: Message) -> None:
        """deleteMessage: the message stays in the transcript, flagged deleted."""
        msg.deleted = True
        self.publish("deleted", msg.chat.id, message_id=msg.message_id, message=self.message_view(msg))

    def answer_callback(self, query_id: str | None, answer: dict[str, Any]) -> None:
        """answerCallbackQuery; 400 for unknown or already answered queries."""
        record = self.callback_queries.get(query_id or "")
        if record is None or record.answered:
            raise ApiError.bad_request("query is too old and response timeout expired or query ID is invalid")
        record.answered = True
        record.answer = answer
        record.answered_at = time.time()
        self.publish("callback_answer", record.chat_id, callback_query=record.view())

    def set_chat_action(self, chat: Chat, action: str | None) -> None:
        """sendChatAction."""
        if action not in CHAT_ACTIONS:
            raise ApiError.bad_request("wrong parameter action in request")
        self.chat_actions[chat.id] = ChatAction(action=action, at=time.time())
        self.publish("chat_action", chat.id, action=action)

    def set_commands(self, key: tuple[str, str], commands: list[dict[str, str]] | None) -> None:
        """setMyCommands / deleteMyCommands for a (scope, language) key."""
        if commands:
            self.commands[key] = commands
        else:
            self.commands.pop(key, None)
        self.publish("commands", None, scope=key[0], language_code=key[1], commands=commands or [])

    async def next_updates(self, offset: int | None, limit: int = 100, timeout: float = 0.0) -> list[dict[str, Any]]:
        """getUpdates: confirm below ``offset``, then return pending updates, long-polling up to ``timeout``."""
        if self.webhook:
            raise ApiError(
                409,
                "Conflict: can't use getUpdates method while webhook is active; use deleteWebhook to delete the "
                "webhook first",
            )
        self._poll_generation += 1
        generation = self._poll_generation
        self.last_poll_at = time.time()
        self._notify()  # an older long poll still waiting gets its 409
        self.confirm_updates(offset)
        limit = min(max(limit, 1), 100)

        def ready() -> list[dict[str, Any]] | None:
            if generation != self._poll_generation:
                raise ApiError(
                    409,
                    "Conflict: terminated by other getUpdates request; make sure that only one bot instance is running",
                )
            return self._updates[:limit] or None

        try:
            return await self.wait_for(ready, min(max(timeout, 0.0), self.config.max_long_poll_s))
        except TimeoutError:
            return []

    def confirm_updates(self, offset: int | None) -> None:
        """Forget updates below ``offset`` (a negative offset keeps only the last ``-offset`` updates)."""
        if offset is None or offset == 0:
            return
        if offset > 0:
            self._updates = [u for u in self._updates if u["update_id"] >= offset]
        else:
            self._updates = self._updates[offset:]

    def confirm_update(self, update_id: int) -> None:
        """Forget one update (a webhook accepted it; deliveries may finish out of order)."""
        self._updates = [u for u in self._updates if u["update_id"] != update_id]
        self._notify()

    def drop_pending_updates(self) -> int:
        """Forget every queued update; returns how many."""
        dropped = len(self._updates)
        self._updates = []
        return dropped

    @property
    def pending_updates(self) -> list[dict[str, Any]]:
        """Updates not yet confirmed by the bot."""
        return list(self._updates)

    # -- lifecycle ------------------------------------------------------------------------------------

    def reset(self) -> None:
        """Forget all chats, messages, files, updates, callbacks and commands (config and the event log stay)."""
        self._clear()
        self.publish("reset", None)

    def close(self) -> None:
        """Wake every waiter (they time out at once) and end subscriber queues."""
        self.closed = True
        for queue in list(self._subscribers):
            with contextlib.suppress(asyncio.QueueFull):
                queue.put_nowait(None)
        self._subscribers.clear()
        self._notify()
