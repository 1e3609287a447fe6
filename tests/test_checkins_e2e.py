"""Quick check-ins without a selfie and notes, end to end through the sandbox with the real bot."""

from __future__ import annotations

import asyncio
import csv
import io
import json
import time
from datetime import datetime, timedelta, timezone
from typing import Any

import aiohttp
import pytest
from test_bot_e2e import (
    ALICE,
    BOB,
    CAROL,
    DIALOGS,
    PHOTOS,
    Bot,
    Person,
    agreed,
    all_confirmed,
    button,
    labels,
    no_face_jpeg,
    running_bot,
    settle,
)

from bot.handlers.awaiting import AWAITING
from catalog import MIXED, MOODS
from sandbox import RunningServer
from storage import MAX_NOTE

EDIT_TIMEOUT = 10.0

pytestmark = pytest.mark.skipif(not (PHOTOS / "obama.jpg").exists(), reason=f"shared photos missing in {PHOTOS}")


async def message(person: Person, message_id: int, changed_from: str | None = None) -> dict[str, Any]:
    """The message as it is now; with ``changed_from``, once the bot has edited that text away (a press is
    answered before the edit that follows it)."""
    deadline = time.monotonic() + EDIT_TIMEOUT
    while True:
        found = next(m for m in await person.messages() if m["message_id"] == message_id)
        if found["text"] != changed_from or time.monotonic() > deadline:
            return found
        await asyncio.sleep(0.05)


async def ask_mood(person: Person) -> dict[str, Any]:
    sent = await person.say("/mood")
    [prompt] = await person.replies(sent, 1)
    assert prompt["text"] == DIALOGS.text("mood.prompt")
    assert labels(prompt) == [DIALOGS.label(m) for m in MOODS]
    return prompt


async def test_a_quick_check_in_is_kept_as_self_reported_and_leads_to_the_offer(
    bot: Bot, http: aiohttp.ClientSession
) -> None:
    alice = Person(http, ALICE)
    store = bot.services.store
    await agreed(bot, ALICE)

    prompt = await ask_mood(alice)
    before = await alice.last_id()
    await alice.press(prompt, DIALOGS.label("sad"))
    [offer] = await alice.replies(before, 1)
    [checkin] = await store.checkins(ALICE)
    assert checkin.self_reported and checkin.effective_emotion == "sad" and checkin.faces == 0
    # The prompt says what was kept, and offers a note; the offer is the one a sad reading gets.
    saved = await message(alice, prompt["message_id"])
    assert saved["text"] == DIALOGS.text("mood.saved", label=DIALOGS.label("sad"))
    assert labels(saved) == [DIALOGS.text("mood.note_label")]
    assert offer["text"] == DIALOGS.offer("sad") and labels(offer) == [b.label for b in DIALOGS.buttons("sad")]

    # The offer's buttons work as after a reading.
    before = await alice.last_id()
    await alice.press(offer, "🎬")
    await alice.replies(before, 1)
    recs = await store.recommendations(ALICE, "movies")
    assert 3 <= len(recs) <= 5 and {(r.checkin_id, r.emotion) for r in recs} == {(checkin.id, "sad")}

    # A second press on the same prompt (a double tap racing the edit) keeps no second check-in.
    before = await alice.last_id()
    await alice.press(prompt, data=button(prompt, DIALOGS.label("sad"))["callback_data"])
    assert await settle(alice, before) == [] and len(await store.checkins(ALICE)) == 1

    # "Mixed": its own offer, items drawn from the even-keeled pool, recorded as "mixed".
    prompt = await ask_mood(alice)
    before = await alice.last_id()
    await alice.press(prompt, DIALOGS.label(MIXED))
    [offer] = await alice.replies(before, 1)
    assert offer["text"] == DIALOGS.offer(MIXED) and labels(offer) == [b.label for b in DIALOGS.buttons(MIXED)]
    before = await alice.last_id()
    await alice.press(offer, "🎵")
    [items] = await alice.replies(before, 1)
    songs = await store.recommendations(ALICE, "songs")
    assert songs and {r.emotion for r in songs} == {MIXED}
    assert all(bot.services.catalog.get(r.item_id).title in items["text"] for r in songs)
    assert [c.effective_emotion for c in await store.checkins(ALICE)] == ["sad", MIXED]

    # /history counts it as the person said (no crash on "mixed").
    sent = await alice.say("/history")
    replies = await alice.replies(sent, 1)
    assert replies[0]["kind"] == "photo"


async def test_a_quick_check_in_asks_before_keeping_anything(bot: Bot, http: aiohttp.ClientSession) -> None:
    carol, bob = Person(http, CAROL), Person(http, BOB)
    store = bot.services.store

    # Not agreed yet: the prompt turns into the question, and the mood waits in its "keep" button.
    prompt = await ask_mood(carol)
    await carol.press(prompt, DIALOGS.label("happy"))
    ask = await message(carol, prompt["message_id"], changed_from=prompt["text"])
    assert ask["text"] == DIALOGS.text("mood.consent_ask")
    assert labels(ask) == [DIALOGS.text("consent.keep_reading_label"), DIALOGS.text("consent.decline_label")]
    assert await store.checkins(CAROL) == [] and await store.consent_at(CAROL) is None

    before = await carol.last_id()
    await carol.press(ask, DIALOGS.text("consent.keep_reading_label"))
    [offer] = await carol.replies(before, 1)
    kept = await message(carol, prompt["message_id"])
    assert kept["text"].startswith(DIALOGS.text("consent.given"))
    assert kept["text"].endswith(DIALOGS.text("mood.saved", label=DIALOGS.label("happy")))
    [checkin] = await store.checkins(CAROL)
    assert checkin.self_reported and checkin.effective_emotion == "happy" and await store.consent_at(CAROL)
    assert offer["text"] == DIALOGS.offer("happy")

    # A person who said no: told it was not kept, nothing written.
    await store.set_consent(BOB, False)
    prompt = await ask_mood(bob)
    await bob.press(prompt, DIALOGS.label("fear"))
    assert (await message(bob, prompt["message_id"], prompt["text"]))["text"] == DIALOGS.text("consent.not_kept")
    assert await store.checkins(BOB) == []


async def test_an_unreadable_photo_offers_to_just_say_it(bot: Bot, http: aiohttp.ClientSession) -> None:
    bob = Person(http, BOB)
    await agreed(bot, BOB)
    sent = await bob.send("photo", no_face_jpeg(), "screen.jpg", "image/jpeg")
    [reply] = await bob.replies(sent, 1)
    assert reply["text"] == DIALOGS.text("no_face")
    assert labels(reply) == [DIALOGS.text("mood.just_tell_me_label")]
    before = await bob.last_id()
    await bob.press(reply, DIALOGS.text("mood.just_tell_me_label"))
    [prompt] = await bob.replies(before, 1)
    assert prompt["text"] == DIALOGS.text("mood.prompt") and labels(prompt) == [DIALOGS.label(m) for m in MOODS]
    before = await bob.last_id()
    await bob.press(prompt, DIALOGS.label("neutral"))
    await bob.replies(before, 1)
    [checkin] = await bot.services.store.checkins(BOB)
    assert checkin.self_reported and checkin.effective_emotion == "neutral"


# -- notes -------------------------------------------------------------------------------------------------------


async def add_note(person: Person, under: dict[str, Any]) -> dict[str, Any]:
    """Press "Add a note" under a message; return the bot's prompt for it."""
    before = await person.last_id()
    await person.press(under, DIALOGS.text("mood.note_label"))
    [prompt] = await person.replies(before, 1)
    assert prompt["text"] == DIALOGS.text("mood.note_prompt", max=MAX_NOTE)
    return prompt


async def reply_to(person: Person, text: str) -> str:
    sent = await person.say(text)
    [reply] = await person.replies(sent, 1)
    return reply["text"]


async def test_a_note_is_the_next_text_kept_with_its_check_in_exported_and_forgotten(
    server: RunningServer, http: aiohttp.ClientSession, database: str, analyzer: Any
) -> None:
    alice = Person(http, ALICE)
    async with running_bot(server, database, analyzer) as bot:
        store = bot.services.store
        await agreed(bot, ALICE)
        prompt = await ask_mood(alice)
        before = await alice.last_id()
        await alice.press(prompt, DIALOGS.label("sad"))
        await alice.replies(before, 1)
        [quick] = await store.checkins(ALICE)
        await add_note(alice, await message(alice, prompt["message_id"]))
        await all_confirmed(server)  # else the restarted bot is given the press again (at-least-once polling)

    # The pending note is kept in the database, not in memory: a restart in between loses nothing.
    async with running_bot(server, database, analyzer) as bot:
        store = bot.services.store
        too_long = "x" * (MAX_NOTE + 1)
        assert await reply_to(alice, too_long) == DIALOGS.text("mood.note_too_long", length=MAX_NOTE + 1, max=MAX_NOTE)
        assert (await store.get_checkin(ALICE, quick.id)).note is None  # still waiting for a shorter one
        assert await reply_to(alice, "  Long day; walked by the sea.  ") == DIALOGS.text("mood.note_saved")
        assert (await store.get_checkin(ALICE, quick.id)).note == "Long day; walked by the sea."
        # Only the next text: after it, texts are answered as before.
        assert await reply_to(alice, "thanks!") in DIALOGS.variants("free_text")
        assert (await store.get_checkin(ALICE, quick.id)).note == "Long day; walked by the sea."

        # Under a selfie reading too.
        photo_id = await alice.photo("obama.jpg")
        reading, _ = await alice.replies(photo_id, 2)
        await add_note(alice, reading)
        assert await reply_to(alice, "after the run") == DIALOGS.text("mood.note_saved")
        selfie = (await store.checkins(ALICE))[-1]
        assert not selfie.self_reported and selfie.note == "after the run"

        # A note asked for long ago has lapsed: the text is ordinary again, and the lapsed wait is dropped.
        await add_note(alice, reading)
        question = (await store.settings(ALICE))[AWAITING]
        await store.update_settings(ALICE, **{AWAITING: {**question, "since": "2020-01-01T00:00:00+00:00"}})
        assert await reply_to(alice, "much later") in DIALOGS.variants("free_text")
        assert (await store.get_checkin(ALICE, selfie.id)).note == "after the run"
        assert AWAITING not in await store.settings(ALICE)

        # The CSV export carries the notes; /forget deletes them with everything else.
        sent = await alice.say("/export")
        export, _json = await alice.replies(sent, 2)
        async with http.get(export["file"]["url"]) as resp:
            rows = list(csv.DictReader(io.StringIO((await resp.read()).decode())))
        notes = {int(r["id"]): (r["source"], r["note"]) for r in rows if r["record"] == "checkin"}
        assert notes == {quick.id: ("self", "Long day; walked by the sea."), selfie.id: ("selfie", "after the run")}
        sent = await alice.say("/forget")
        [confirm] = await alice.replies(sent, 1)
        await alice.press(confirm, DIALOGS.text("forget_confirm.confirm"))
        assert (await message(alice, confirm["message_id"], confirm["text"]))["text"] == DIALOGS.text("forgotten")
        async with store.database.reading() as db:
            assert (await db.fetchone("SELECT COUNT(*) AS n FROM checkins WHERE note IS NOT NULL"))["n"] == 0
        assert await store.settings(ALICE) == {}  # a pending note, had there been one, went with the person


# -- export as JSON --------------------------------------------------------------------------------------------------


async def test_export_json_has_titles_notes_self_reports_corrections_and_local_times(
    bot: Bot, http: aiohttp.ClientSession
) -> None:
    alice = Person(http, ALICE)
    store, catalog = bot.services.store, bot.services.catalog
    await agreed(bot, ALICE, BOB)
    await store.update_settings(ALICE, timezone="Asia/Kolkata")  # UTC+05:30 all year
    at = datetime(2026, 3, 1, 12, 0, tzinfo=timezone.utc)
    reading = await store.add_checkin(ALICE, (0.1, 0.0, 0.1, 0.6, 0.1, 0.05, 0.05), "happy", 2, at=at)
    await store.correct_checkin(ALICE, reading, "sad")
    quick = await store.add_self_report(ALICE, MIXED, at=at + timedelta(hours=13))  # the next local day
    await store.set_note(ALICE, quick, "tired but ok")
    movie = catalog.by_kind("movies")[0]
    await store.add_recommendations(ALICE, reading, "movies", [movie.id, "movie-since-removed"], "sad")
    await store.set_feedback(ALICE, movie.id, 1)
    await store.add_self_report(BOB, "fear", at=at)

    sent = await alice.say("/export")
    csv_doc, json_doc = await alice.replies(sent, 2)
    assert csv_doc["file"]["file_name"] == "moodlens-export-" + json_doc["file"]["file_name"][16:-5] + ".csv"
    assert json_doc["caption"] == DIALOGS.text("export.json_caption")
    async with http.get(json_doc["file"]["url"]) as resp:
        exported = json.loads((await resp.read()).decode("utf-8"))

    assert exported["format"] == "moodlens-export" and exported["version"] == 1
    assert exported["time_zone"] == "Asia/Kolkata" and exported["exported_at"].endswith("+05:30")
    first, second = exported["checkins"]
    assert first == {
        "id": reading,
        "at": "2026-03-01T17:30:00+05:30",
        "emotion": "sad",
        "source": "selfie",
        "self_reported": False,
        "read_as": "happy",
        "corrected_to": "sad",
        "faces": 2,
        "scores": pytest.approx(
            {"angry": 0.1, "disgust": 0.0, "fear": 0.1, "happy": 0.6, "sad": 0.1, "surprise": 0.05, "neutral": 0.05}
        ),  # fmt: skip
        "note": None,
    }
    assert second["at"] == "2026-03-02T06:30:00+05:30" and second["emotion"] == MIXED
    assert second["self_reported"] and second["source"] == "self" and second["note"] == "tired but ok"
    assert second["read_as"] is None and second["scores"] is None and second["faces"] is None
    shown, removed = exported["recommendations"]
    assert (shown["title"], shown["creator"], shown["year"]) == (movie.title, movie.creator, movie.year)
    assert shown["feedback"] == "like" and shown["checkin_id"] == reading and shown["kind"] == "movies"
    assert shown["shown_at"].endswith("+05:30")
    assert removed["item_id"] == "movie-since-removed" and removed["title"] is None and removed["feedback"] is None
    assert "fear" not in {c["emotion"] for c in exported["checkins"]}  # nothing of Bob's
