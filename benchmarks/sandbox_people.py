"""People talking to the real bot through the sandbox, for the benchmarks that check nothing is lost: sending
photos, reading what the bot answered them, pressing buttons, fetching their /export."""

from __future__ import annotations

import asyncio
import csv
import io
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

import aiohttp

from dialogs import Dialogs
from sandbox import RunningServer


@dataclass
class Person:
    user_id: int
    photos: list[int] = field(default_factory=list)  # message ids of what they sent


async def send_photo(http: aiohttp.ClientSession, user_id: int, data: bytes, name: str, kind: str = "photo") -> int:
    """Send a photo (or ``kind="document"``) as the person; returns its message id."""
    form = aiohttp.FormData()
    form.add_field("user_id", str(user_id))
    form.add_field("file", data, filename=name, content_type="image/jpeg")
    async with http.post(f"/sandbox/send_{kind}", data=form) as resp:
        body = await resp.json()
        assert resp.status == 200, body
        return body["message"]["message_id"]


def replies(server: RunningServer, person: Person) -> dict[int, list]:
    """Bot messages in the person's chat, by the photo they answer."""
    out: dict[int, list] = {}
    for m in server.state.transcript(person.user_id):
        if m.sender == "bot" and m.reply_to_message_id in person.photos:
            out.setdefault(m.reply_to_message_id, []).append(m)
    return out


def answered(server: RunningServer, people: Iterable[Person]) -> int:
    """Photos that have at least one answer."""
    return sum(len(replies(server, p)) for p in people)


def all_answered(server: RunningServer, people: Iterable[Person]) -> bool:
    return all(len(replies(server, p)) == len(p.photos) for p in people)


def acknowledged(server: RunningServer, person: Person) -> int:
    """Readings shown with the "Not quite" button: each one is a check-in the person was told about."""
    return sum(1 for msgs in replies(server, person).values() if any(m.reply_markup for m in msgs))


def answer_kinds(server: RunningServer, people: Iterable[Person], dialogs: Dialogs) -> dict[str, int]:
    """How each photo was answered: a reading, a clear message (no face, unreadable), the generic error, or not."""
    clear = {dialogs.text(k) for k in ("no_face", "unreadable_image", "not_an_image")}
    generic = dialogs.text("error")
    kinds = {"reading": 0, "clear message": 0, "generic error": 0, "unanswered": 0}
    for person in people:
        by_photo = replies(server, person)
        for photo in person.photos:
            first = by_photo.get(photo, [None])[0]
            text = None if first is None else (first.text or first.caption or "")
            if first is None:
                kinds["unanswered"] += 1
            elif text == generic:
                kinds["generic error"] += 1
            elif text in clear:
                kinds["clear message"] += 1
            else:
                kinds["reading"] += 1
    return kinds


async def wait_until(predicate: Callable[[], bool], timeout: float, every: float = 0.2) -> bool:
    """Poll ``predicate`` every ``every`` seconds until it holds or ``timeout`` passes; returns its last value."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        await asyncio.sleep(every)
    return predicate()


async def press(http: aiohttp.ClientSession, user_id: int, message_id: int, callback_data: str) -> dict[str, Any]:
    """Press an inline button as the person; returns the callback query once the bot answered it (or gave up)."""
    payload = {"user_id": user_id, "message_id": message_id, "callback_data": callback_data}
    async with http.post("/sandbox/press_button", json=payload) as resp:
        query_id = (await resp.json())["callback_query"]["callback_query_id"]
    async with http.get(f"/sandbox/callbacks/{query_id}?timeout=60") as resp:
        return (await resp.json())["callback_query"]


async def export_ids(http: aiohttp.ClientSession, user_id: int) -> list[int]:
    """The check-in ids in the person's /export CSV (empty when no document came).

    Other messages may arrive in between (an update delivered again after a worker died is answered again),
    so the first document after the command is the export.
    """
    async with http.post("/sandbox/send_message", json={"user_id": user_id, "text": "/export"}) as resp:
        after = (await resp.json())["message"]["message_id"]
    while True:
        async with http.get(f"/sandbox/chats/{user_id}/next_bot_message?after={after}&timeout=60") as resp:
            message = (await resp.json()).get("message")
        if not message:
            return []
        if message["kind"] == "document":
            break
        after = message["message_id"]
    async with http.get(message["file"]["url"]) as resp:
        rows = csv.DictReader(io.StringIO((await resp.read()).decode()))
        return [int(r["id"]) for r in rows if r["record"] == "checkin"]
