"""Schema v4: quick check-ins (self-reported, possibly "mixed") and notes; the upgrade from a v3 database."""

from __future__ import annotations

import csv
import io
import sqlite3
from datetime import datetime, timezone
from pathlib import Path

import aiosqlite
import asyncpg
import pytest

from storage import EMOTIONS, LATEST_VERSION, MAX_NOTE, MIXED, NotConsented, migrate, open_store, schema_version

ALICE, BOB = 1001, 2002
SAD = [0.05, 0.02, 0.08, 0.02, 0.70, 0.03, 0.10]
T0 = datetime(2025, 1, 1, 12, 0, tzinfo=timezone.utc)


@pytest.fixture
async def store(database: str):
    s = await open_store(database)
    for person in (ALICE, BOB):
        await s.set_consent(person)
    yield s
    await s.close()


async def _v3_database(path: Path) -> None:
    """A version 3 database with two people, three check-ins (one later forgotten) and linked recommendations."""
    async with aiosqlite.connect(path, isolation_level=None) as db:
        await db.execute("PRAGMA foreign_keys = ON")
        assert await migrate(db, target=3) == 3
        for person in (ALICE, BOB):
            await db.execute("INSERT INTO people (user_id, created_at) VALUES (?, ?)", (person, T0.isoformat()))
        insert = (
            f"INSERT INTO checkins (user_id, at, {', '.join(EMOTIONS)}, top_emotion, faces, corrected_emotion, "
            "message_id) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
        )
        await db.execute(insert, (ALICE, T0.isoformat(), *SAD, "sad", 1, "fear", 17))
        await db.execute(insert, (BOB, T0.isoformat(), *SAD, "sad", 2, None, None))
        await db.execute(insert, (BOB, T0.isoformat(), *SAD, "sad", 1, None, None))  # id 3, deleted below
        await db.execute(
            "INSERT INTO recommendations (user_id, checkin_id, kind, item_id, emotion, shown_at, feedback) "
            "VALUES (?, 1, 'movies', 'movie-a', 'sad', ?, 1), (?, 2, 'songs', 'song-b', 'sad', ?, NULL), "
            "(?, NULL, 'books', 'book-c', 'sad', ?, -1)",
            (ALICE, T0.isoformat(), BOB, T0.isoformat(), ALICE, T0.isoformat()),
        )
        await db.execute("DELETE FROM checkins WHERE id = 3")


async def test_a_v3_database_with_rows_is_rebuilt_keeping_data_links_indexes_and_ids(tmp_path: Path) -> None:
    path = tmp_path / "v3.db"
    await _v3_database(path)
    with sqlite3.connect(path) as db:
        before_checkins = db.execute("SELECT * FROM checkins ORDER BY id").fetchall()
        before_recs = db.execute("SELECT * FROM recommendations ORDER BY id").fetchall()

    s = await open_store(path)
    try:
        assert await schema_version(s.connection) == LATEST_VERSION >= 4
        [alice] = await s.checkins(ALICE)
        assert (alice.id, alice.top_emotion, alice.corrected_emotion, alice.faces) == (1, "sad", "fear", 1)
        assert alice.source == "selfie" and alice.note is None and not alice.self_reported
        assert [r.checkin_id for r in await s.recommendations(ALICE)] == [1, None]
        assert [r.checkin_id for r in await s.recommendations(BOB)] == [2]
        # The same message still finds its check-in (the unique index came back).
        await s.set_consent(ALICE)
        await s.set_consent(BOB)
        assert await s.add_checkin(ALICE, SAD, "sad", 1, message_id=17) == 1
        # Ids of deleted rows are never reused: the AUTOINCREMENT counter moved over with the rows.
        assert await s.add_self_report(BOB, MIXED) == 4
        # Deleting a check-in still unlinks its recommendations (the foreign key points at the new table).
        await s.connection.execute("DELETE FROM checkins WHERE id = 2")
        assert [r.checkin_id for r in await s.recommendations(BOB)] == [None]
    finally:
        await s.close()
    with sqlite3.connect(path) as db:
        after_checkins = db.execute("SELECT * FROM checkins WHERE id = 1").fetchall()
        assert after_checkins[0][: len(before_checkins[0])] == before_checkins[0]
        # Later versions add columns at the end (press_id in v6): the v3 columns are unchanged.
        after_recs = db.execute("SELECT * FROM recommendations WHERE id = 1").fetchall()
        assert after_recs[0][: len(before_recs[0])] == before_recs[0]
        assert db.execute("PRAGMA foreign_key_check").fetchall() == []
        assert db.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        indexes = {r[0] for r in db.execute("SELECT name FROM sqlite_master WHERE type = 'index'")}
        tables = {r[0] for r in db.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
        [fk] = [r for r in db.execute("PRAGMA foreign_key_list(recommendations)") if r[3] == "checkin_id"]
    assert {"checkins_user_at", "checkins_user_message", "recommendations_checkin"} <= indexes
    assert "checkins_v4" not in tables and fk[2] == "checkins" and fk[6] == "SET NULL"


async def test_the_database_itself_refuses_bad_sources_moods_and_notes(store) -> None:
    cid = await store.add_self_report(ALICE, "happy")
    for sql, args in [
        ("UPDATE checkins SET source = 'guess' WHERE id = ?", (cid,)),
        ("UPDATE checkins SET top_emotion = 'meh' WHERE id = ?", (cid,)),
        ("UPDATE checkins SET note = ? WHERE id = ?", ("x" * (MAX_NOTE + 1), cid)),
        ("UPDATE checkins SET note = '' WHERE id = ?", (cid,)),
    ]:
        with pytest.raises((sqlite3.IntegrityError, asyncpg.CheckViolationError)):
            async with store.database.transaction() as db:
                await db.execute(sql, *args)
    async with store.database.transaction() as db:
        assert await db.execute("UPDATE checkins SET corrected_emotion = 'mixed' WHERE id = ?", cid) == 1


async def test_self_reports_are_stored_like_readings_and_marked(store) -> None:
    happy = await store.add_self_report(ALICE, "happy", at=T0, message_id=5)
    mixed = await store.add_self_report(ALICE, MIXED, at=T0)
    assert await store.add_self_report(ALICE, "sad", message_id=5) == happy  # the same prompt keeps one check-in
    first, second = await store.checkins(ALICE)
    assert first.self_reported and first.source == "self" and first.faces == 0
    assert first.effective_emotion == "happy" and first.distribution["happy"] == 1.0 and sum(first.probabilities) == 1
    assert second.id == mixed and second.effective_emotion == MIXED
    assert second.probabilities == pytest.approx([1 / 7] * 7)
    assert await store.recent_emotions(ALICE, 2) == [MIXED, "happy"]
    assert await store.add_recommendations(ALICE, mixed, "songs", ["song-x"], MIXED)
    with pytest.raises(ValueError):
        await store.add_self_report(ALICE, "meh")
    with pytest.raises(NotConsented):
        await store.add_self_report(3003, "happy")
    assert await store.checkins(3003) == []


async def test_notes_belong_to_their_check_in_and_person(store) -> None:
    cid = await store.add_checkin(ALICE, SAD, "sad", 1, at=T0)
    assert await store.set_note(ALICE, cid, "  long day at work  ")
    assert (await store.get_checkin(ALICE, cid)).note == "long day at work"
    assert await store.set_note(ALICE, cid, "x" * MAX_NOTE)  # a second note replaces the first
    assert not await store.set_note(BOB, cid, "not mine")  # someone else's check-in
    assert (await store.get_checkin(ALICE, cid)).note == "x" * MAX_NOTE
    for bad in ("", "   ", "y" * (MAX_NOTE + 1)):
        with pytest.raises(ValueError):
            await store.set_note(ALICE, cid, bad)
    await store.set_consent(ALICE, False)  # withdrawn: what is kept stays, nothing new is added
    with pytest.raises(NotConsented):
        await store.set_note(ALICE, cid, "after withdrawing")


async def test_csv_export_ends_with_source_and_note_and_forget_removes_notes(store) -> None:
    cid = await store.add_self_report(ALICE, MIXED, at=T0)
    await store.set_note(ALICE, cid, "rain, then sun, «ok»")
    await store.add_recommendations(ALICE, cid, "songs", ["song-x"], MIXED)
    rows = list(csv.DictReader(io.StringIO((await store.export_csv(ALICE)).decode())))
    assert list(rows[0])[-3:] == ["source", "note", "at_local"]  # newer columns go at the end
    assert (rows[0]["emotion"], rows[0]["source"], rows[0]["note"]) == (MIXED, "self", "rain, then sun, «ok»")
    assert (rows[1]["source"], rows[1]["note"]) == ("", "")
    await store.forget(ALICE)
    async with store.database.reading() as db:
        assert (await db.fetchone("SELECT COUNT(*) AS n FROM checkins WHERE note IS NOT NULL"))["n"] == 0
