"""The real bot (build_application, real Analyzer, catalog, dialogs and SQLite) driven through the sandbox.

Every test starts the local Bot API sandbox on a free port, runs the Application with long polling against
it and acts as people through the control API (/sandbox/...), then checks replies, buttons and the database.
"""

from __future__ import annotations

import asyncio
import csv
import io
import os
import time
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import aiohttp
import cv2
import pytest
from telegram.ext import Application

from bot.app import COMMANDS, build_application, polling, running
from bot.callback_data import Action, ButtonCodec, ButtonData
from bot.config import Settings
from bot.services import CHARTS_PER_MINUTE, EXPORTS_PER_MINUTE, Services, close_services, open_services
from dialogs import load_dialogs
from fer_engine.datasets import data_dir
from fer_engine.sample_images import screenshot
from sandbox import RunningServer
from sandbox.faults import FaultPlan
from storage.urls import POSTGRESQL, parse_database_url

PHOTOS = data_dir() / "photos"
SECRET = b"test-button-secret-0123456789"
ALICE, BOB, CAROL = 1001, 1002, 1003
DIALOGS = load_dialogs()

pytestmark = pytest.mark.skipif(not (PHOTOS / "obama.jpg").exists(), reason=f"shared photos missing in {PHOTOS}")


@dataclass
class Bot:
    app: Application
    services: Services
    settings: Settings


@asynccontextmanager
async def running_bot(
    server: RunningServer,
    database: str | Path,
    analyzer: Any,
    clock: Callable[[], datetime] | None = None,
    **overrides: Any,
) -> AsyncIterator[Bot]:
    """The real Application polling the sandbox; services closed afterwards (like a process exit).

    ``database``: a SQLite path or a ``postgresql://`` URL (conftest's ``database`` fixture gives one per backend).
    ``clock``: "now" for reminders, retention and local days from the start (tests move it instead of waiting).
    """
    on_postgres = parse_database_url(str(database)).dialect == POSTGRESQL
    settings = Settings(
        token=server.token,
        db_path=None if on_postgres else Path(database),
        database_url=str(database) if on_postgres else None,
        api_base_url=server.base_url,
        file_base_url=server.base_file_url,
        button_secret=SECRET,
        **overrides,
    )
    services = await open_services(settings, analyzer=analyzer)
    if clock is not None:
        services.clock = clock
    app = build_application(settings, services)
    try:
        async with running(app, polling(timeout=1)):
            yield Bot(app, services, settings)
    finally:
        await close_services(services)


async def all_confirmed(server: RunningServer, timeout: float = 10.0) -> None:
    """Wait until the bot has confirmed every update it was given (the next getUpdates after handling): before a
    restart, else the restarted bot is rightly given them again (at-least-once polling) and answers them twice."""
    deadline = time.monotonic() + timeout
    while server.state.pending_updates:
        assert time.monotonic() < deadline, "updates left unconfirmed"
        await asyncio.sleep(0.05)


# -- acting as people through the control API ----------------------------------------------------------------


class Person:
    """One sandbox user in their private chat (or a given group chat)."""

    def __init__(self, http: aiohttp.ClientSession, user_id: int, chat_id: int | None = None) -> None:
        self.http = http
        self.user_id = user_id
        self.chat_id = chat_id if chat_id is not None else user_id
        self.extra = {} if chat_id is None else {"chat_id": chat_id, "chat_type": "group", "chat_title": "Friends"}

    async def _post(self, path: str, payload: dict[str, Any]) -> dict[str, Any]:
        async with self.http.post(path, json=payload) as resp:
            body = await resp.json()
            assert resp.status == 200, body
            return body

    async def say(self, text: str) -> int:
        body = await self._post("/sandbox/send_message", {"user_id": self.user_id, "text": text, **self.extra})
        return body["message"]["message_id"]

    async def send(self, kind: str, data: bytes | None = None, file_name: str = "file", mime: str = "") -> int:
        if data is None:  # stickers, videos and voice get placeholder bytes from the sandbox
            body = await self._post(f"/sandbox/send_{kind}", {"user_id": self.user_id, **self.extra})
            return body["message"]["message_id"]
        form = aiohttp.FormData()
        form.add_field("user_id", str(self.user_id))
        for key, value in self.extra.items():
            form.add_field(key, str(value))
        form.add_field("file", data, filename=file_name, content_type=mime or "application/octet-stream")
        async with self.http.post(f"/sandbox/send_{kind}", data=form) as resp:
            body = await resp.json()
            assert resp.status == 200, body
            return body["message"]["message_id"]

    async def photo(self, name: str) -> int:
        return await self.send("photo", (PHOTOS / name).read_bytes(), name, "image/jpeg")

    async def messages(self, after: int = 0, wait: float = 0.0) -> list[dict[str, Any]]:
        async with self.http.get(f"/sandbox/chats/{self.chat_id}/messages?after={after}&wait={wait}") as resp:
            return (await resp.json())["messages"]

    async def replies(self, after: int, count: int, timeout: float = 15.0) -> list[dict[str, Any]]:
        """Wait until the bot has sent at least ``count`` messages after message ``after``; return them all."""
        deadline = time.monotonic() + timeout
        while True:
            found = [m for m in await self.messages(after) if m["sender"] == "bot"]
            if len(found) >= count:
                return found
            left = deadline - time.monotonic()
            assert left > 0, f"expected {count} bot messages, got {[m['text'] or m['caption'] for m in found]}"
            last = max([after, *(m["message_id"] for m in found)])
            await self.messages(last, wait=min(left, 2.0))

    async def press(self, message: dict[str, Any], text: str | None = None, data: str | None = None) -> dict:
        """Press the button whose label contains ``text`` (or send raw ``data``); return the answered query."""
        payload: dict[str, Any] = {"user_id": self.user_id, "message_id": message["message_id"]}
        if data is not None:
            payload["data"] = data
        else:
            payload["callback_data"] = button(message, text)["callback_data"]
        body = await self._post("/sandbox/press_button", payload)
        query_id = body["callback_query"]["callback_query_id"]
        async with self.http.get(f"/sandbox/callbacks/{query_id}?timeout=10") as resp:
            query = (await resp.json())["callback_query"]
        assert query["answered"], "the bot must answer every button press"
        return query

    async def last_id(self) -> int:
        return max((m["message_id"] for m in await self.messages()), default=0)


def button(message: dict[str, Any], text: str | None) -> dict[str, Any]:
    for row in message["buttons"]:
        for b in row:
            if text is None or text in b["text"]:
                return b
    raise AssertionError(f"no button {text!r} in {message['buttons']}")


def labels(message: dict[str, Any]) -> list[str]:
    return [b["text"] for row in message["buttons"] for b in row]


def no_face_jpeg() -> bytes:
    ok, buffer = cv2.imencode(".jpg", screenshot())
    assert ok
    return buffer.tobytes()


async def agreed(bot: Bot, *user_ids: int) -> None:
    """These people already said "keep my check-ins" (the consent flow itself is tested on its own)."""
    for user_id in user_ids:
        await bot.services.store.set_consent(user_id)
        await bot.services.store.update_settings(user_id, timezone_asked=True)  # the zone question has its own tests


async def settle(person: Person, after: int, seconds: float = 0.4) -> list[dict[str, Any]]:
    """Bot messages after ``after`` once nothing new has arrived for a moment."""
    await asyncio.sleep(seconds)
    return [m for m in await person.messages(after) if m["sender"] == "bot"]


# -- the main journey --------------------------------------------------------------------------------------


async def test_selfie_journey_buttons_history_export_forget(
    bot: Bot, server: RunningServer, http: aiohttp.ClientSession
) -> None:
    alice = Person(http, ALICE)
    store = bot.services.store

    # /start: the welcome explains what is stored (never photos), that it is no diagnosis, and the controls.
    sent = await alice.say("/start")
    [welcome] = await alice.replies(sent, 1)
    assert "never store your photos" in welcome["text"] and "diagnosis" in welcome["text"]
    assert "/export" in welcome["text"] and "/forget" in welcome["text"]
    async with http.get("/sandbox/commands") as resp:
        menu = (await resp.json())["command_lists"][0]["commands"]
    assert [c["command"] for c in menu] == list(COMMANDS)

    assert labels(welcome) == [DIALOGS.text("consent.keep_label")]

    # A selfie: typing first, then the reading (a reply to the photo) with shares, then the question whether
    # to keep it.  Nothing is stored before the answer, not even a row for the person.
    seq = server.state.last_seq
    photo_id = await alice.photo("obama.jpg")
    reading, ask = await alice.replies(photo_id, 2)
    assert reading["reply_to_message_id"] == photo_id
    assert reading["text"].count("%") >= 4 and "Your expression looks mostly" in reading["text"]
    assert labels(reading) == [] and ask["reply_to_message_id"] == reading["message_id"]
    assert ask["text"] == DIALOGS.text("consent.ask")
    assert labels(ask) == [DIALOGS.text("consent.keep_reading_label"), DIALOGS.text("consent.decline_label")]
    assert await _all_rows(bot.services) == []

    # "Keep": consent recorded, this reading becomes the check-in, the reading gets "Not quite", then the offer.
    before = await alice.last_id()
    await alice.press(ask, DIALOGS.text("consent.keep_reading_label"))
    # The first kept check-in also asks for the time zone, once (tests/test_settings_e2e.py).
    thanks, offer, zone, _ = await alice.replies(before, 4)
    assert zone["text"] == DIALOGS.text("settings.zone.ask_first")
    assert thanks["text"] == DIALOGS.text("consent.given") and await store.consent_at(ALICE) is not None
    reading = next(m for m in await alice.messages() if m["message_id"] == reading["message_id"])
    assert labels(reading) == [DIALOGS.text("not_quite.label"), DIALOGS.text("mood.note_label")]
    [checkin] = await store.checkins(ALICE)
    assert f"looks mostly {checkin.top_emotion}" in reading["text"] and checkin.faces == 1
    assert DIALOGS.label(checkin.top_emotion).split()[0] in reading["text"]  # the emoji
    assert labels(offer) == [b.label for b in DIALOGS.buttons(checkin.top_emotion)]
    assert offer["text"].endswith(DIALOGS.offer(checkin.top_emotion))
    events = server.state.events_after(seq, ALICE)
    action_seq = next(e.seq for e in events if e.type == "chat_action")
    reply_seq = next(e.seq for e in events if e.type == "message" and e.payload["message"]["sender"] == "bot")
    assert action_seq < reply_seq

    # Movies: 3-5 items with 👍/👎 per item, a link each, and More; every shown item is recorded in order.
    before = await alice.last_id()
    query = await alice.press(offer, "🎬")
    assert query["answer"]["text"] is None
    [items] = await alice.replies(before, 1)
    recs = await store.recommendations(ALICE, "movies")
    assert 3 <= len(recs) <= 5 and all(r.checkin_id == checkin.id for r in recs)
    for number, rec in enumerate(recs, start=1):
        title = bot.services.catalog.get(rec.item_id).title
        assert f"{number}. " in items["text"] and title in items["text"]
    item_rows = items["buttons"][:-1]
    assert len(item_rows) == len(recs)
    assert all(row[0]["text"].endswith("👍") and row[1]["text"].endswith("👎") and row[2]["url"] for row in item_rows)
    assert [b["text"] for b in items["buttons"][-1]] == [DIALOGS.text("more_label"), DIALOGS.text("other_ideas_label")]

    # 👍 on the first item: stored, acknowledged, ticked in place.
    query = await alice.press(items, "1. 👍")
    assert query["answer"]["text"] in DIALOGS.variants("followups.liked")
    assert await store.feedback(ALICE) == {recs[0].item_id: 1}
    ticked = next(m for m in await alice.messages() if m["message_id"] == items["message_id"])
    assert labels(ticked)[0] == "1. 👍 ✓"

    # More: fresh items of the same kind.
    before = await alice.last_id()
    await alice.press(items, DIALOGS.text("more_label"))
    await alice.replies(before, 1)
    more = (await store.recommendations(ALICE, "movies"))[len(recs) :]
    assert 3 <= len(more) <= 5 and not {r.item_id for r in more} & {r.item_id for r in recs}

    # Not quite -> pick another emotion -> the correction is stored and a new offer follows.
    other = next(e for e in ("sad", "happy") if e != checkin.top_emotion)
    before = await alice.last_id()
    await alice.press(reading, DIALOGS.text("not_quite.label"))
    [prompt] = await alice.replies(before, 1)
    assert prompt["text"] == DIALOGS.text("not_quite.prompt") and len(labels(prompt)) == 7
    before = await alice.last_id()
    query = await alice.press(prompt, DIALOGS.label(other))
    assert query["answer"]["text"] == DIALOGS.text("correction_saved", label=DIALOGS.label(other))
    [new_offer] = await alice.replies(before, 1)
    assert new_offer["text"] == DIALOGS.offer(other)
    assert (await store.get_checkin(ALICE, checkin.id)).corrected_emotion == other

    # Two faces: an annotated copy with numbered per-face lines, largest first.
    original = (PHOTOS / "two_people.jpg").read_bytes()
    photo_id = await alice.photo("two_people.jpg")
    annotated, _ = await alice.replies(photo_id, 2)
    assert annotated["kind"] == "photo" and annotated["reply_to_message_id"] == photo_id
    assert "2 faces" in annotated["caption"] and "\n1. " in annotated["caption"] and "\n2. " in annotated["caption"]
    async with http.get(annotated["file"]["url"]) as resp:
        picture = await resp.read()
    assert picture[:2] == b"\xff\xd8" and picture != original
    assert (await store.checkins(ALICE))[-1].faces == 2

    # /history: a PNG chart with the count, dominant expressions and a trend sentence, then the calendar.
    sent = await alice.say("/history")
    chart, calendar = await alice.replies(sent, 2)
    streak = DIALOGS.text("history.streaks", current=1, longest=1)
    assert calendar["kind"] == "photo" and calendar["caption"].startswith(streak)
    assert chart["kind"] == "photo" and chart["file"]["mime_type"] == "image/png"
    async with http.get(chart["file"]["url"]) as resp:
        assert (await resp.read())[:8] == b"\x89PNG\r\n\x1a\n"
    assert "(2 check-ins)" in chart["caption"] and "Most often" in chart["caption"] and "Trend" in chart["caption"]
    assert DIALOGS.label(other).split()[0] in chart["caption"]  # the correction counts in history
    sent = await alice.say("/history forever")
    [usage] = await alice.replies(sent, 1)
    assert usage["text"] == DIALOGS.text("history_usage")

    # /export: a CSV whose check-in rows are exactly the stored check-ins (then the same as JSON, tested apart).
    sent = await alice.say("/export")
    export, as_json = await alice.replies(sent, 2)
    assert export["kind"] == "document" and export["file"]["file_name"].endswith(".csv")
    assert as_json["kind"] == "document" and as_json["file"]["file_name"].endswith(".json")
    async with http.get(export["file"]["url"]) as resp:
        rows = list(csv.DictReader(io.StringIO((await resp.read()).decode())))
    stored = await store.checkins(ALICE)
    checkin_rows = [r for r in rows if r["record"] == "checkin"]
    assert [int(r["id"]) for r in checkin_rows] == [c.id for c in stored]
    assert [r["top_emotion"] for r in checkin_rows] == [c.top_emotion for c in stored]
    assert checkin_rows[0]["corrected_emotion"] == other
    assert sum(r["record"] == "recommendation" for r in rows) == len(recs) + len(more)

    # /forget: nothing happens until the confirm button; then everything is gone.
    sent = await alice.say("/forget")
    [confirm] = await alice.replies(sent, 1)
    assert len(await store.checkins(ALICE)) == 2
    await alice.press(confirm, DIALOGS.text("forget_confirm.confirm"))
    done = next(m for m in await alice.messages() if m["message_id"] == confirm["message_id"])
    assert done["text"] == DIALOGS.text("forgotten") and done["buttons"] == []
    assert await store.checkins(ALICE) == [] and await store.recommendations(ALICE) == []
    sent = await alice.say("/export")
    [empty] = await alice.replies(sent, 1)
    assert empty["text"] == DIALOGS.text("export_empty")

    # Buttons of deleted check-ins are answered politely and do nothing.
    before = await alice.last_id()
    query = await alice.press(offer, "🎬")
    assert query["answer"]["text"] == DIALOGS.text("stale_button")
    assert await settle(alice, before) == []


# -- inputs the bot cannot read ----------------------------------------------------------------------------


async def test_bad_inputs_get_helpful_messages(
    server: RunningServer, http: aiohttp.ClientSession, database: str, analyzer: Any
) -> None:
    async with running_bot(server, database, analyzer, max_upload_mb=1.0) as bot:
        bob = Person(http, BOB)
        await agreed(bot, BOB)

        async def reply_to(sent: int) -> str:
            [reply] = await bob.replies(sent, 1)
            return reply["text"]

        assert await reply_to(await bob.send("photo", no_face_jpeg(), "screen.jpg", "image/jpeg")) == DIALOGS.text(
            "no_face"
        )
        broken = b"\xff\xd8\xff\xe0 this is not really a jpeg"
        assert await reply_to(await bob.send("document", broken, "broken.jpg", "image/jpeg")) == DIALOGS.text(
            "unreadable_image"
        )
        assert await reply_to(await bob.send("document", b"hello", "notes.txt", "text/plain")) == DIALOGS.text(
            "not_an_image"
        )
        assert await reply_to(await bob.send("sticker")) == DIALOGS.text("sticker")
        assert await reply_to(await bob.send("video")) == DIALOGS.text("video")
        assert await reply_to(await bob.send("animation")) == DIALOGS.text("video")
        assert await reply_to(await bob.send("voice")) == DIALOGS.text("voice")

        # Over MAX_UPLOAD_MB: refused from file_size alone, before any download (no getFile call).
        downloads = sum(name == "getFile" for _, name in server.state.api_calls)
        huge = os.urandom(1_300_000)
        assert await reply_to(await bob.send("document", huge, "huge.jpg", "image/jpeg")) == DIALOGS.text(
            "too_large", max_mb="1"
        )
        assert sum(name == "getFile" for _, name in server.state.api_calls) == downloads

        assert await reply_to(await bob.say("/history")) == DIALOGS.text("history_empty", period="last 30 days")

        # An image document is read like a photo.
        sent = await bob.send("document", (PHOTOS / "obama.jpg").read_bytes(), "me.jpg", "image/jpeg")
        reading, _ = await bob.replies(sent, 2)
        assert "Your expression looks mostly" in reading["text"]

        assert await reply_to(await bob.say("/frobnicate")) == DIALOGS.text("unknown_command")
        assert await reply_to(await bob.say("how are you?")) in DIALOGS.variants("free_text")

        # Groups: a polite pointer to the private chat, nothing analysed or stored.
        group = Person(http, BOB, chat_id=-500)
        sent = await group.say("/start@moodlens_sandbox_bot")
        [pointer] = await group.replies(sent, 1)
        assert pointer["text"] == DIALOGS.text("group_chat")

        # An unexpected failure: the global error handler answers politely and the bot keeps going.
        async def broken_export(user_id: int) -> bytes:
            raise RuntimeError("disk on fire")

        bot.services.store.export_csv = broken_export  # type: ignore[method-assign]
        assert await reply_to(await bob.say("/export")) == DIALOGS.text("error")
        assert await reply_to(await bob.say("/help")) == DIALOGS.text("help")

        # Only the image document made a check-in; no photo bytes or file ids anywhere in the database.
        assert len(await bot.services.store.checkins(BOB)) == 1
        dump = "\n".join(str(row) for row in await _all_rows(bot.services))
        assert "SBX" not in dump and "file_" not in dump


async def _all_rows(services: Services) -> list[tuple]:
    rows: list[tuple] = []
    async with services.store.database.reading() as db:
        for table in ("people", "checkins", "recommendations"):
            rows += [tuple(r) for r in await db.fetchall(f"SELECT * FROM {table}")]
    return rows


# -- consent, and /forget against work in flight ----------------------------------------------------------------


async def test_no_keeps_nothing_and_privacy_changes_the_choice(bot: Bot, http: aiohttp.ClientSession) -> None:
    carol = Person(http, CAROL)
    store = bot.services.store

    async def selfie() -> list[dict[str, Any]]:
        photo_id = await carol.photo("obama.jpg")
        return await carol.replies(photo_id, 2)

    # "Don't keep": the question turns into the answer; only the choice itself is remembered.
    reading, ask = await selfie()
    await carol.press(ask, DIALOGS.text("consent.decline_label"))
    answered = next(m for m in await carol.messages() if m["message_id"] == ask["message_id"])
    assert answered["text"] == DIALOGS.text("consent.declined") and answered["buttons"] == []
    reading, note = await selfie()
    assert "looks mostly" in reading["text"] and labels(reading) == []
    assert note["text"] == DIALOGS.text("consent.not_kept") and labels(note) == []
    assert await store.checkins(CAROL) == [] and await store.consent_at(CAROL) is None

    # /privacy offers the one choice that changes something: agree now...
    sent = await carol.say("/privacy")
    [privacy] = await carol.replies(sent, 1)
    assert "main face" in privacy["text"] and labels(privacy) == [DIALOGS.text("consent.keep_label")]
    before = await carol.last_id()
    await carol.press(privacy, DIALOGS.text("consent.keep_label"))
    [thanks] = await carol.replies(before, 1)
    assert thanks["text"] == DIALOGS.text("consent.given")
    photo_id = await carol.photo("obama.jpg")
    reading, offer, _, _ = await carol.replies(photo_id, 4)  # the first kept check-in: the zone question too
    assert labels(reading)[0] == DIALOGS.text("not_quite.label") and len(await store.checkins(CAROL)) == 1

    # ... and later stop: what is stored stays until /forget, nothing new is added.
    sent = await carol.say("/privacy")
    [privacy] = await carol.replies(sent, 1)
    assert labels(privacy) == [DIALOGS.text("consent.withdraw_label")]
    await carol.press(privacy, DIALOGS.text("consent.withdraw_label"))
    await selfie()
    assert len(await store.checkins(CAROL)) == 1

    # A "keep" button more than a day old keeps nothing (its reading is stale).
    old = int(time.time() // 60) - 24 * 60 - 1
    data = ButtonCodec(SECRET).encode(CAROL, ButtonData(Action.CONSENT_READING, issued=old,
                                                        reading=(0, 0, 0, 1, 0, 0, 0), faces=1))  # fmt: skip
    query = await carol.press(offer, data=data)
    assert query["answer"]["text"] == DIALOGS.text("stale_button") and len(await store.checkins(CAROL)) == 1


class SlowAnalyzer:
    """The real analyzer, a second slower: time to press a button while a photo is being read."""

    def __init__(self, inner: Any, seconds: float) -> None:
        self.inner, self.seconds = inner, seconds

    def analyze_image(self, image: Any) -> Any:
        time.sleep(self.seconds)
        return self.inner.analyze_image(image)


async def test_forget_wins_over_a_photo_and_a_press_in_flight(bot: Bot, http: aiohttp.ClientSession) -> None:
    alice = Person(http, ALICE)
    store = bot.services.store
    await agreed(bot, ALICE)
    photo_id = await alice.photo("obama.jpg")
    _, offer = await alice.replies(photo_id, 2)

    # A photo is being read when the person confirms /forget: nothing of it is kept afterwards.
    sent = await alice.say("/forget")
    [confirm] = await alice.replies(sent, 1)
    bot.services.analyzer = SlowAnalyzer(bot.services.analyzer, 1.0)  # type: ignore[assignment]
    photo_id = await alice.photo("obama.jpg")
    await asyncio.sleep(0.3)
    await alice.press(confirm, DIALOGS.text("forget_confirm.confirm"))
    reading, ask = await alice.replies(photo_id, 2)
    assert "looks mostly" in reading["text"] and ask["text"] == DIALOGS.text("consent.ask")
    assert await _all_rows(bot.services) == [], "nothing written after the confirm"
    bot.services.analyzer = bot.services.analyzer.inner

    # A suggestion press that passed its check-in test just before the delete landed gets a friendly line.
    await agreed(bot, ALICE)
    photo_id = await alice.photo("obama.jpg")
    _, offer = await alice.replies(photo_id, 2)
    pick = store.pick_recommendations

    async def forget_lands_first(user_id: int, *args: Any, **kwargs: Any) -> Any:
        await store.forget(user_id)
        return await pick(user_id, *args, **kwargs)

    store.pick_recommendations = forget_lands_first  # type: ignore[method-assign]
    before = await alice.last_id()
    await alice.press(offer, "🎬")
    [gone] = await alice.replies(before, 1)
    assert gone["text"] == DIALOGS.text("data_gone")
    assert await _all_rows(bot.services) == []


# -- Telegram pushing back -------------------------------------------------------------------------------------


async def test_readings_reach_people_through_429s_5xx_cuts_and_slow_downloads(
    bot: Bot, server: RunningServer, http: aiohttp.ClientSession
) -> None:
    # Downloads slower than PTB's 5 s default, and a third of all other calls refused or lost.
    server.state.config.faults = FaultPlan(rate_limited=0.2, server_errors=0.1, dropped=0.05,
                                           download_delay=5.5, seed=7)  # fmt: skip
    alice = Person(http, ALICE)
    await agreed(bot, ALICE)
    for name in ("obama.jpg", "biden.jpg"):
        photo_id = await alice.photo(name)
        reading, offer = await alice.replies(photo_id, 2, timeout=60)
        assert "looks mostly" in reading["text"] and labels(offer)
    before = await alice.last_id()
    await alice.press(offer, "🎬")
    await alice.replies(before, 1, timeout=30)
    counts = server.state.config.faults.counts
    server.state.config.faults = FaultPlan()
    assert counts.get("rate_limited", 0) >= 1 and counts.get("slow_download", 0) == 2, counts
    assert len(await bot.services.store.checkins(ALICE)) == 2
    texts = [m["text"] for m in await alice.messages() if m["sender"] == "bot"]
    assert DIALOGS.text("error") not in texts


# -- buttons: tampering, other people's rows, restarts --------------------------------------------------------


async def test_tampered_foreign_and_stale_buttons_are_refused(bot: Bot, http: aiohttp.ClientSession) -> None:
    alice, carol = Person(http, ALICE), Person(http, CAROL)
    store = bot.services.store
    await agreed(bot, ALICE, CAROL)
    photo_id = await carol.photo("obama.jpg")
    await carol.replies(photo_id, 2)
    [carol_checkin] = await store.checkins(CAROL)
    photo_id = await alice.photo("biden.jpg")
    reading, offer = await alice.replies(photo_id, 2)
    [alice_checkin] = await store.checkins(ALICE)
    genuine = button(offer, "🎬")["callback_data"]
    codec = ButtonCodec(SECRET)

    forged = [
        genuine[:-1] + ("A" if genuine[-1] != "A" else "B"),  # signature changed
        genuine.replace(":", ":1", 1),  # payload changed, old signature
        codec.encode(CAROL, ButtonData(Action.KIND, checkin=alice_checkin.id, kind="movies")),  # signed for Carol
        codec.encode(ALICE, ButtonData(Action.KIND, checkin=carol_checkin.id, kind="movies")),  # Carol's check-in
        codec.encode(ALICE, ButtonData(Action.CORRECT, checkin=carol_checkin.id, emotion="sad")),
        codec.encode(ALICE, ButtonData(Action.FEEDBACK, rec=1, vote=1)),  # nothing shown to Alice yet
        ButtonCodec(b"some-other-bot-secret-123").encode(ALICE, ButtonData(Action.KIND, checkin=1, kind="books")),
        codec.encode(ALICE, ButtonData(Action.FORGET, issued=int(time.time() // 60) - 11)),  # expired confirmation
        "0" + genuine[1:],  # an older format version
        "not-our-data",
    ]
    before = await alice.last_id()
    for data in forged:
        query = await alice.press(offer, data=data)
        assert query["answer"]["text"] == DIALOGS.text("stale_button"), data
    assert await settle(alice, before) == []
    assert await store.recommendations(ALICE) == [] and await store.recommendations(CAROL) == []
    assert (await store.get_checkin(CAROL, carol_checkin.id)).corrected_emotion is None
    assert await store.get_checkin(ALICE, alice_checkin.id) is not None  # the expired /forget did nothing

    # The genuine button still works.
    await alice.press(offer, "🎬")
    await alice.replies(before, 1)
    assert 3 <= len(await store.recommendations(ALICE, "movies")) <= 5


async def test_buttons_work_after_a_restart(
    server: RunningServer, http: aiohttp.ClientSession, database: str, analyzer: Any
) -> None:
    alice = Person(http, ALICE)
    async with running_bot(server, database, analyzer) as first:
        await agreed(first, ALICE)
        photo_id = await alice.photo("obama.jpg")
        reading, offer = await alice.replies(photo_id, 2)
        await all_confirmed(server)

    async with running_bot(server, database, analyzer) as second:
        before = await alice.last_id()
        await alice.press(offer, "📚")
        [books] = await alice.replies(before, 1)
        assert books["text"].startswith(tuple(DIALOGS.variants("followups.chosen.books")))
        recs = await second.services.store.recommendations(ALICE, "books")
        assert 3 <= len(recs) <= 5
        query = await alice.press(books, "2. 👎")
        assert query["answer"]["text"] in DIALOGS.variants("followups.disliked")
        assert await second.services.store.feedback(ALICE) == {recs[1].item_id: -1}


# -- fairness and support -------------------------------------------------------------------------------------


async def test_rate_limit_keeps_others_served(
    server: RunningServer, http: aiohttp.ClientSession, database: str, analyzer: Any
) -> None:
    async with running_bot(server, database, analyzer, photos_per_minute=3, photos_in_flight=1) as bot:
        alice, bob = Person(http, ALICE), Person(http, BOB)
        await agreed(bot, ALICE, BOB)
        data = (PHOTOS / "obama.jpg").read_bytes()
        flood = [alice.send("photo", data, "a.jpg", "image/jpeg") for _ in range(8)]
        sent = await asyncio.gather(*flood, bob.photo("biden.jpg"))
        bob_reading, _ = await bob.replies(sent[-1], 2)
        assert "Your expression looks mostly" in bob_reading["text"]

        photo_ids = set(sent[:-1])
        deadline = time.monotonic() + 15
        while time.monotonic() < deadline:
            replies = [m for m in await alice.messages() if m["reply_to_message_id"] in photo_ids]
            readings = [m for m in replies if "looks mostly" in m["text"]]
            if len(readings) == 3:
                break
            await asyncio.sleep(0.1)
        assert len(readings) == 3
        await asyncio.sleep(0.3)  # let the refused ones be answered too
        texts = [m["text"] for m in await alice.messages() if m["sender"] == "bot"]
        prefix = DIALOGS.text("rate_limited", seconds=60).split("60")[0]
        notices = [t for t in texts if t.startswith(prefix)]
        assert len(notices) == 1  # told once, not once per refused photo (the notice itself is throttled)
        assert len(await bot.services.store.checkins(ALICE)) == 3


async def test_history_charts_are_rate_limited(bot: Bot, http: aiohttp.ClientSession) -> None:
    await agreed(bot, ALICE)
    await bot.services.store.add_checkin(ALICE, (0.1, 0.0, 0.1, 0.5, 0.1, 0.1, 0.1), "happy", 1)
    alice = Person(http, ALICE)
    sent = [await alice.say("/history") for _ in range(CHARTS_PER_MINUTE + 3)]
    await alice.replies(sent[0], 2 * CHARTS_PER_MINUTE + 1)  # a chart and a calendar per admitted /history
    await asyncio.sleep(0.3)  # anything more would have arrived by now
    replies = [m for m in await alice.messages(sent[0]) if m["sender"] == "bot"]
    prefix = DIALOGS.text("history_rate_limited", seconds=60).split("60")[0]
    assert sum(m["kind"] == "photo" for m in replies) == 2 * CHARTS_PER_MINUTE
    assert [(m["text"] or "").startswith(prefix) for m in replies if m["kind"] != "photo"] == [True]  # told once


async def test_button_taps_and_exports_are_rate_limited_per_person(bot: Bot, http: aiohttp.ClientSession) -> None:
    alice, bob = Person(http, ALICE), Person(http, BOB)
    await agreed(bot, ALICE, BOB)
    photo_id = await alice.photo("obama.jpg")
    _, offer = await alice.replies(photo_id, 2)
    # A script tapping "Not now" far faster than a person: past the limit each tap gets only the notice.
    limit = bot.services.button_limiter.per_minute
    not_now = offer["buttons"][-1][0]["callback_data"]
    answers = [(await alice.press(offer, data=not_now))["answer"]["text"] for _ in range(limit + 3)]
    notice = DIALOGS.text("buttons_rate_limited", seconds=60).split("60")[0]
    assert [bool(a and a.startswith(notice)) for a in answers] == [False] * limit + [True] * 3
    # /export: a few a minute, then one notice; Bob is not affected by Alice's taps or exports.
    sent = [await alice.say("/export") for _ in range(EXPORTS_PER_MINUTE + 2)]
    await alice.replies(sent[0], 2 * EXPORTS_PER_MINUTE + 1)  # a CSV and a JSON per admitted export
    replies = await settle(alice, sent[0])
    assert sum(m["kind"] == "document" for m in replies) == 2 * EXPORTS_PER_MINUTE
    prefix = DIALOGS.text("export_rate_limited", seconds=60).split("60")[0]
    assert [m["text"].startswith(prefix) for m in replies if m["kind"] != "document"] == [True]
    photo_id = await bob.photo("biden.jpg")
    _, bob_offer = await bob.replies(photo_id, 2)
    assert (await bob.press(bob_offer, "🎬"))["answer"]["text"] is None


async def test_mostly_low_recent_expressions_add_support(bot: Bot, http: aiohttp.ClientSession) -> None:
    store = bot.services.store
    now = datetime.now(timezone.utc)
    sad = (0.05, 0.0, 0.05, 0.0, 0.8, 0.0, 0.1)
    await agreed(bot, ALICE)
    # Four low expressions, the last of them 1.5 days ago: whatever the new photo shows, 4 of the latest 5
    # check-ins look low, and after a gap of more than a day the notice is shown (again).
    for hours in (39, 38, 37, 36):
        await store.add_checkin(ALICE, sad, "sad", 1, at=now - timedelta(hours=hours))
    alice = Person(http, ALICE)
    photo_id = await alice.photo("obama.jpg")
    reading, notice, offer = await alice.replies(photo_id, 3)
    assert notice["text"] == DIALOGS.text("support_notice")
    assert labels(offer)[0] == next(b.label for b in DIALOGS.buttons(_emotion(reading)) if b.offer == "activities")
    before = await alice.last_id()
    await alice.press(offer, labels(offer)[1])  # any kind: supportive mode
    [items] = await alice.replies(before, 1)
    assert items["text"].startswith(DIALOGS.text("followups.supportive_intro"))

    # A second photo right away does not repeat the notice.
    photo_id = await alice.photo("obama.jpg")
    replies = await alice.replies(photo_id, 2)
    assert DIALOGS.text("support_notice") not in [m["text"] for m in await settle(alice, photo_id)]
    assert len(replies) >= 2


def _emotion(reading: dict[str, Any]) -> str:
    return reading["text"].split("looks mostly ", 1)[1].split(",", 1)[0]
