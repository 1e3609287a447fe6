"""Tests for storage/: migrations, WAL, per-user scoping, export and forget."""

from __future__ import annotations

import csv
import io
import json
import re
import sqlite3
import subprocess
import sys
from datetime import datetime, timedelta, timezone
from pathlib import Path

import aiosqlite
import pytest

from storage import (
    CSV_HEADER,
    EMOTIONS,
    LATEST_VERSION,
    CheckIn,
    NotConsented,
    migrate,
    open_store,
    schema_version,
)

ALICE = 1001
BOB = 2002
CAROL = 3003  # never agreed to anything

HAPPY = [0.01, 0.01, 0.02, 0.80, 0.05, 0.06, 0.05]
SAD = [0.05, 0.02, 0.08, 0.02, 0.70, 0.03, 0.10]
T0 = datetime(2025, 1, 1, 12, 0, tzinfo=timezone.utc)


@pytest.fixture
async def store(database: str):
    """A store on each backend (see conftest's ``database``)."""
    s = await open_store(database)
    for person in (ALICE, BOB):  # both agreed to keep check-ins; tests of consent itself use others
        await s.set_consent(person)
    yield s
    await s.close()


def _pragma(path: Path, name: str) -> object:
    with sqlite3.connect(path) as db:
        return db.execute(f"PRAGMA {name}").fetchone()[0]


def _columns(path: Path, table: str) -> list[str]:
    with sqlite3.connect(path) as db:
        return [r[1] for r in db.execute(f"PRAGMA table_info({table})")]


# -- migrations ------------------------------------------------------------------------------------------


async def test_fresh_db_reaches_latest_version(tmp_path: Path) -> None:
    path = tmp_path / "sub" / "fresh.db"
    s = await open_store(path)
    try:
        assert LATEST_VERSION >= 2
        assert await schema_version(s.connection) == LATEST_VERSION
        async with s.connection.execute("PRAGMA foreign_keys") as cur:
            assert (await cur.fetchone())[0] == 1
    finally:
        await s.close()
    assert _pragma(path, "user_version") == LATEST_VERSION
    assert "feedback" in _columns(path, "recommendations")
    assert [*EMOTIONS] == [c for c in _columns(path, "checkins") if c in EMOTIONS]


async def test_wal_mode_is_on(tmp_path: Path) -> None:
    store = await open_store(tmp_path / "mood.db")
    try:
        async with store.connection.execute("PRAGMA journal_mode") as cur:
            assert (await cur.fetchone())[0].lower() == "wal"
        async with store.connection.execute("PRAGMA synchronous") as cur:
            assert (await cur.fetchone())[0] == 2, "FULL: a commit survives a power cut, not only a crash"
        await store.set_consent(ALICE)
        await store.add_checkin(ALICE, HAPPY, "happy", 1)
        assert (tmp_path / "mood.db-wal").exists()
    finally:
        await store.close()


async def test_reopen_is_idempotent_and_keeps_data(tmp_path: Path) -> None:
    path = tmp_path / "mood.db"
    s = await open_store(path)
    await s.set_consent(ALICE)
    cid = await s.add_checkin(ALICE, HAPPY, "happy", 1, at=T0)
    await s.close()
    for _ in range(2):
        s = await open_store(path)
        assert await schema_version(s.connection) == LATEST_VERSION
        assert [c.id for c in await s.checkins(ALICE)] == [cid]
        await s.close()


async def test_version_1_db_is_upgraded(tmp_path: Path) -> None:
    path = tmp_path / "old.db"
    async with aiosqlite.connect(path, isolation_level=None) as db:
        assert await migrate(db, target=1) == 1
        assert await schema_version(db) == 1
        # A v1 database: recommendations without feedback; put some data in it the old way.
        await db.execute("INSERT INTO people (user_id, created_at) VALUES (?, ?)", (ALICE, T0.isoformat()))
        await db.execute(
            f"INSERT INTO checkins (user_id, at, {', '.join(EMOTIONS)}, top_emotion, faces) "
            "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (ALICE, T0.isoformat(timespec="microseconds"), *SAD, "sad", 1),
        )
        await db.execute(
            "INSERT INTO recommendations (user_id, checkin_id, kind, item_id, emotion, shown_at) "
            "VALUES (?, 1, 'song', 'song:1', 'sad', ?)",
            (ALICE, T0.isoformat(timespec="microseconds")),
        )
    assert "feedback" not in _columns(path, "recommendations")

    s = await open_store(path)
    try:
        assert await schema_version(s.connection) == LATEST_VERSION
        assert [c.top_emotion for c in await s.checkins(ALICE)] == ["sad"]
        assert await s.set_feedback(ALICE, "song:1", 1)
        assert await s.feedback(ALICE) == {"song:1": 1}
    finally:
        await s.close()
    with sqlite3.connect(path) as db:
        indexes = {r[0] for r in db.execute("SELECT name FROM sqlite_master WHERE type = 'index'")}
    assert "recommendations_user_item" in indexes


# A process that opens the store once the test says "go" and reports the migrations it applied.
_OPENER = """
import asyncio, json, logging, sys
from storage import open_store

applied = []
class Applied(logging.Handler):
    def emit(self, record):
        if record.getMessage().startswith("applying schema migration"):
            applied.append(record.args[0])
logging.getLogger("storage.migrations").addHandler(Applied())
logging.getLogger("storage.migrations").setLevel(logging.INFO)

async def main():
    print("ready", flush=True)
    sys.stdin.readline()
    store = await open_store(sys.argv[1])
    await store.close()

asyncio.run(main())
print(json.dumps(applied), flush=True)
"""
OPENERS = 4


def test_processes_opening_one_new_database_at_once_migrate_it_once(tmp_path: Path) -> None:
    path = tmp_path / "shared.db"
    root = Path(__file__).resolve().parents[1]
    opener = [sys.executable, "-c", _OPENER, str(path)]
    kw = {"cwd": root, "stdin": subprocess.PIPE, "stdout": subprocess.PIPE, "stderr": subprocess.PIPE, "text": True}
    processes = [subprocess.Popen(opener, **kw) for _ in range(OPENERS)]
    try:
        for process in processes:  # all imported and waiting, so they open the database together
            assert process.stdout.readline() == "ready\n", process.stderr.read()
        for process in processes:
            process.stdin.write("go\n")
            process.stdin.flush()
        results = [process.communicate(timeout=120) for process in processes]
    finally:
        for process in processes:
            if process.poll() is None:
                process.kill()
                process.wait()
    for process, (_, err) in zip(processes, results, strict=True):
        assert process.returncode == 0, err[-2000:]
    applied = sorted(v for out, _ in results for v in json.loads(out.splitlines()[-1]))
    assert applied == list(range(1, LATEST_VERSION + 1)), "every migration applied exactly once"
    assert _pragma(path, "user_version") == LATEST_VERSION
    assert not list(tmp_path.glob("*.bak")), "a new database needs no backup"


async def test_migrating_a_database_with_data_backs_it_up_first(tmp_path: Path) -> None:
    path = tmp_path / "old.db"
    async with aiosqlite.connect(path, isolation_level=None) as db:
        assert await migrate(db, target=1) == 1
        await db.execute("INSERT INTO people (user_id, created_at) VALUES (?, ?)", (ALICE, T0.isoformat()))
    assert not list(tmp_path.glob("*.bak")), "nothing to back up before version 1"

    s = await open_store(path)
    try:
        assert await schema_version(s.connection) == LATEST_VERSION
    finally:
        await s.close()
    [backup] = tmp_path.glob("old.db.v1-*.bak")
    assert re.fullmatch(r"old\.db\.v1-\d{8}T\d{6}Z\.bak", backup.name)
    with sqlite3.connect(backup) as db:
        assert db.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        assert db.execute("PRAGMA user_version").fetchone()[0] == 1
        assert db.execute("SELECT user_id FROM people").fetchall() == [(ALICE,)]
        assert "feedback" not in [r[1] for r in db.execute("PRAGMA table_info(recommendations)")]

    s = await open_store(path)  # already at the latest version: no second backup
    await s.close()
    assert len(list(tmp_path.glob("*.bak"))) == 1


async def test_refuses_newer_schema(tmp_path: Path) -> None:
    path = tmp_path / "future.db"
    with sqlite3.connect(path) as db:
        db.execute(f"PRAGMA user_version = {LATEST_VERSION + 1}")
    with pytest.raises(RuntimeError):
        await open_store(path)


# -- check-ins ---------------------------------------------------------------------------------------------


async def test_checkins_roundtrip_and_correction(store) -> None:
    c1 = await store.add_checkin(ALICE, HAPPY, "happy", 1, at=T0)
    c2 = await store.add_checkin(ALICE, SAD, "sad", 2, at=T0 + timedelta(hours=1))
    rows = await store.checkins(ALICE)
    assert [r.id for r in rows] == [c1, c2]
    first = rows[0]
    assert isinstance(first, CheckIn)
    assert first.at == T0 and first.user_id == ALICE and first.faces == 1
    assert first.probabilities == pytest.approx(tuple(HAPPY))
    assert first.distribution["happy"] == pytest.approx(0.8)
    assert first.effective_emotion == "happy"
    with pytest.raises(AttributeError):
        first.top_emotion = "sad"  # frozen

    assert await store.correct_checkin(ALICE, c1, "surprise")
    assert (await store.get_checkin(ALICE, c1)).effective_emotion == "surprise"
    assert await store.recent_emotions(ALICE, 10) == ["sad", "surprise"]
    assert await store.recent_emotions(ALICE, 1) == ["sad"]
    assert [c.id for c in await store.checkins(ALICE, since=T0 + timedelta(minutes=30))] == [c2]
    # Naive datetimes are taken as UTC.
    assert [c.id for c in await store.checkins(ALICE, since=datetime(2025, 1, 1, 12, 30))] == [c2]


async def test_checkin_validation(store) -> None:
    with pytest.raises(ValueError):
        await store.add_checkin(ALICE, HAPPY[:6], "happy", 1)
    with pytest.raises(ValueError):
        await store.add_checkin(ALICE, HAPPY, "joy", 1)
    with pytest.raises(ValueError):
        await store.add_checkin(ALICE, [*HAPPY[:6], 1.5], "happy", 1)
    with pytest.raises(TypeError):
        await store.add_checkin("1001", HAPPY, "happy", 1)  # type: ignore[arg-type]
    cid = await store.add_checkin(ALICE, HAPPY, "happy", 1)
    assert not await store.correct_checkin(ALICE, cid, "joy")
    assert not await store.correct_checkin(ALICE, cid + 999, "sad")
    assert await store.checkins(ALICE) and len(await store.checkins(ALICE)) == 1


# -- recommendations ---------------------------------------------------------------------------------------


async def test_recommendations_seen_and_feedback(store) -> None:
    cid = await store.add_checkin(ALICE, SAD, "sad", 1)
    ids = await store.add_recommendations(ALICE, cid, "movie", ["m:1", "m:2"], "sad")
    assert len(ids) == 2 and ids[0] < ids[1]
    await store.add_recommendations(ALICE, None, "song", ["s:1"], "happy")
    await store.add_recommendations(ALICE, cid, "movie", ["m:1"], "sad")  # shown again, now newest
    assert await store.seen_items(ALICE, "movie") == ["m:1", "m:2", "m:1"]
    assert await store.seen_items(ALICE, "song") == ["s:1"]
    assert await store.seen_items(ALICE, "book") == []

    assert await store.set_feedback(ALICE, "m:2", -1)
    assert await store.set_feedback(ALICE, "m:1", 1)
    assert not await store.set_feedback(ALICE, "m:404", 1)
    assert not await store.set_feedback(ALICE, "m:1", 5)
    assert await store.feedback(ALICE) == {"m:2": -1, "m:1": 1}
    # Feedback lands on the latest showing only.
    recs = [r for r in await store.recommendations(ALICE, "movie") if r.item_id == "m:1"]
    assert [r.feedback for r in recs] == [None, 1]
    assert await store.set_feedback(ALICE, "m:1", 0)
    assert await store.feedback(ALICE) == {"m:2": -1}

    with pytest.raises(ValueError):
        await store.add_recommendations(ALICE, cid, "movie", ["m:3"], "bored")


# -- scoping -----------------------------------------------------------------------------------------------


async def test_user_b_cannot_touch_user_a(store) -> None:
    a_checkin = await store.add_checkin(ALICE, HAPPY, "happy", 1)
    await store.add_recommendations(ALICE, a_checkin, "book", ["b:1"], "happy")
    await store.ensure_user(BOB)

    assert not await store.correct_checkin(BOB, a_checkin, "sad")
    assert (await store.get_checkin(ALICE, a_checkin)).corrected_emotion is None
    assert await store.get_checkin(BOB, a_checkin) is None
    assert await store.checkins(BOB) == []
    assert await store.recent_emotions(BOB, 5) == []
    assert await store.seen_items(BOB, "book") == []
    assert not await store.set_feedback(BOB, "b:1", -1)
    assert await store.feedback(ALICE) == {}
    with pytest.raises(ValueError):
        await store.add_recommendations(BOB, a_checkin, "book", ["b:2"], "happy")
    assert b"b:1" not in await store.export_csv(BOB)

    assert await store.forget(BOB) == 1  # only Bob's people row
    assert len(await store.checkins(ALICE)) == 1
    assert await store.seen_items(ALICE, "book") == ["b:1"]


# -- people ------------------------------------------------------------------------------------------------


async def test_ensure_user_settings_and_consent(store, tmp_path: Path) -> None:
    await store.ensure_user(ALICE)
    await store.ensure_user(ALICE)  # idempotent
    assert await store.settings(ALICE) == {}
    await store.ensure_user(ALICE, language="ru")
    assert await store.settings(ALICE) == {"language": "ru"}
    assert await store.update_settings(ALICE, kinds=["movie"], language=None) == {"kinds": ["movie"]}
    assert await store.consent_at(CAROL) is None
    await store.set_consent(CAROL)
    assert (await store.consent_at(CAROL)).tzinfo is not None
    await store.set_consent(CAROL, False)
    assert await store.consent_at(CAROL) is None


async def test_the_same_message_makes_one_checkin(store) -> None:
    # A crash can hand the bot an update again: its check-in is found, not added twice.
    first = await store.add_checkin(ALICE, HAPPY, "happy", 1, message_id=41)
    assert await store.add_checkin(ALICE, SAD, "sad", 1, message_id=41) == first
    other = await store.add_checkin(BOB, HAPPY, "happy", 1, message_id=41)  # message ids are per chat
    unkeyed = [await store.add_checkin(ALICE, HAPPY, "happy", 1) for _ in range(2)]
    assert len({first, other, *unkeyed}) == 4
    assert [c.top_emotion for c in await store.checkins(ALICE)] == ["happy"] * 3


async def test_nothing_is_written_without_consent(store) -> None:
    for write in (
        store.add_checkin(CAROL, HAPPY, "happy", 1),
        store.add_recommendations(CAROL, None, "movie", ["m:1"], "happy"),
    ):
        with pytest.raises(NotConsented):
            await write
    async with store.database.reading() as db:
        row = await db.fetchone("SELECT COUNT(*) AS n FROM people WHERE user_id = ?", CAROL)
    assert row["n"] == 0, "not even a row for the person"
    # "No" is remembered (so they are not asked again and again) and still keeps no mood data.
    await store.set_consent(CAROL, False)
    assert await store.settings(CAROL) == {"consent_declined": True} and await store.consent_at(CAROL) is None
    with pytest.raises(NotConsented):
        await store.add_checkin(CAROL, HAPPY, "happy", 1)
    # "Yes" later: the first agreement's time is kept when it is given again.
    await store.set_consent(CAROL)
    first = await store.consent_at(CAROL)
    await store.set_consent(CAROL)
    assert await store.consent_at(CAROL) == first and await store.settings(CAROL) == {}
    assert await store.add_checkin(CAROL, HAPPY, "happy", 1) > 0


# -- export / forget ---------------------------------------------------------------------------------------


async def test_export_csv(store) -> None:
    c1 = await store.add_checkin(ALICE, HAPPY, "happy", 1, at=T0)
    await store.correct_checkin(ALICE, c1, "surprise")
    await store.add_recommendations(ALICE, c1, "song", ["song:Тишина, «ночь»"], "surprise")
    await store.add_recommendations(ALICE, None, "activity", ["act:walk"], "happy")
    await store.set_feedback(ALICE, "song:Тишина, «ночь»", 1)
    await store.add_checkin(BOB, SAD, "sad", 1)

    data = await store.export_csv(ALICE)
    assert isinstance(data, bytes)
    rows = list(csv.DictReader(io.StringIO(data.decode("utf-8"))))
    assert tuple(csv.reader(io.StringIO(data.decode("utf-8"))).__next__()) == CSV_HEADER
    assert [r["record"] for r in rows] == ["checkin", "recommendation", "recommendation"]
    checkin = rows[0]
    assert checkin["id"] == str(c1)
    assert checkin["at"].startswith("2025-01-01T12:00:00")
    assert checkin["emotion"] == "surprise" and checkin["top_emotion"] == "happy"
    assert checkin["corrected_emotion"] == "surprise"
    assert float(checkin["happy"]) == pytest.approx(0.8)
    song, activity = rows[1], rows[2]
    assert song["item_id"] == "song:Тишина, «ночь»" and song["feedback"] == "1" and song["checkin_id"] == str(c1)
    assert activity["feedback"] == "" and activity["checkin_id"] == "" and activity["kind"] == "activity"
    assert b"0.700000" not in data and len(rows) == 3  # nothing of Bob's

    empty = await store.export_csv(9999)
    assert empty.decode().strip() == ",".join(CSV_HEADER)


async def test_forget_removes_everything_of_the_user(store, tmp_path: Path) -> None:
    c1 = await store.add_checkin(ALICE, HAPPY, "happy", 1)
    await store.add_checkin(ALICE, SAD, "sad", 1)
    await store.add_recommendations(ALICE, c1, "movie", ["m:1", "m:2"], "happy")
    await store.add_checkin(BOB, SAD, "sad", 1)

    assert await store.forget(ALICE) == 1 + 2 + 2
    assert await store.checkins(ALICE) == []
    assert await store.seen_items(ALICE, "movie") == []
    assert await store.settings(ALICE) == {}
    assert await store.forget(ALICE) == 0
    assert len(await store.checkins(BOB)) == 1
    # Forgetting withdraws consent: a photo or button still in flight writes nothing.
    with pytest.raises(NotConsented):
        await store.add_checkin(ALICE, HAPPY, "happy", 1)
    with pytest.raises(NotConsented):
        await store.add_recommendations(ALICE, None, "movie", ["m:3"], "happy")
    assert await store.export_csv(ALICE) == await store.export_csv(CAROL)
    # Ids are never reused, so a stale button cannot hit a new row.
    await store.set_consent(ALICE)
    c_new = await store.add_checkin(ALICE, HAPPY, "happy", 1)
    assert c_new > c1
