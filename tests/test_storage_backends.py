"""The storage backends: DATABASE_URL parsing, the SQL both speak, and what several processes (webhook workers)
sharing one database need: migrations applied once, one check-in per message, /forget winning, no lost settings."""

from __future__ import annotations

import asyncio
from datetime import datetime, timezone

import pytest

from bot.config import SettingsError, load_settings
from storage import LATEST_VERSION, NotConsented, open_store
from storage.postgres_db import numbered_placeholders, postgres_schema_version
from storage.store import to_iso
from storage.urls import POSTGRESQL, SQLITE, parse_database_url

ALICE, BOB = 1001, 2002
HAPPY = [0.01, 0.01, 0.02, 0.80, 0.05, 0.06, 0.05]
TOKEN = "123456:TEST-token_abc"
#: A Telegram id above 2**31: the schema must not truncate it (INTEGER on PostgreSQL would).
BIG_ID = 7_123_456_789
T0 = datetime(2025, 1, 1, 12, 0, tzinfo=timezone.utc)


def test_database_targets_name_a_backend() -> None:
    assert parse_database_url("data/x.db") == parse_database_url("sqlite:///data/x.db")
    assert parse_database_url("sqlite:////tmp/x.db").location == "/tmp/x.db"
    assert parse_database_url("sqlite:///data/x.db").dialect == SQLITE
    assert parse_database_url("postgresql://u:pw@db:5432/moodlens").dialect == POSTGRESQL
    assert parse_database_url("postgres://db/moodlens").dialect == POSTGRESQL
    for bad in ("", "mysql://u:hunter2@db/x", "sqlite:///"):
        with pytest.raises(ValueError) as caught:
            parse_database_url(bad)
        assert "hunter2" not in str(caught.value)


def test_database_url_wins_with_a_token_and_its_password_never_shows() -> None:
    url = "postgresql://bot:s3cret@127.0.0.1:5432/moodlens"
    settings = load_settings({"TELEGRAM_BOT_TOKEN": TOKEN, "DATABASE_URL": url}, create_dirs=False)
    assert settings.database == url and "s3cret" not in repr(settings)
    # Without a token the bot runs in the sandbox, which never writes to the real database.
    sandbox = load_settings({"DATABASE_URL": url}, create_dirs=False)
    assert sandbox.database == str(sandbox.db_path)
    with pytest.raises(SettingsError) as caught:
        load_settings({"TELEGRAM_BOT_TOKEN": TOKEN, "DATABASE_URL": "mysql://bot:s3cret@db/x"}, create_dirs=False)
    assert "DATABASE_URL" in str(caught.value) and "s3cret" not in str(caught.value)


def test_question_marks_become_numbered_placeholders_outside_literals() -> None:
    sql = "UPDATE t SET a = ?, b = '?' WHERE c = ? AND d LIKE '%?%' AND e = ?"
    assert numbered_placeholders(sql) == "UPDATE t SET a = $1, b = '?' WHERE c = $2 AND d LIKE '%?%' AND e = $3"


async def test_telegram_ids_beyond_32_bits_round_trip(database: str) -> None:
    store = await open_store(database)
    try:
        await store.set_consent(BIG_ID)
        checkin = await store.add_checkin(BIG_ID, HAPPY, "happy", 1, message_id=BIG_ID)
        [stored] = await store.checkins(BIG_ID)
        assert stored.id == checkin and stored.user_id == BIG_ID
        assert await store.people_with_setting("language") == {}
        await store.update_settings(BIG_ID, language="es")
        assert await store.people_with_setting("language") == {BIG_ID: {"language": "es"}}
    finally:
        await store.close()


# -- several processes on one PostgreSQL database -------------------------------------------------------------


@pytest.fixture
def postgres_database(request: pytest.FixtureRequest, tmp_path) -> str:
    from conftest import new_database

    return new_database(request, "postgresql", tmp_path)


async def test_workers_starting_at_once_migrate_once(postgres_database: str) -> None:
    stores = await asyncio.gather(*(open_store(postgres_database) for _ in range(4)))
    try:
        async with stores[0].database.reading() as db:
            rows = await db.fetchall("SELECT version FROM schema_migrations ORDER BY version")
        assert [r["version"] for r in rows] == list(range(1, LATEST_VERSION + 1))
        pool = stores[0].database._pool  # noqa: SLF001 - the version helper takes a raw connection
        async with pool.acquire() as connection:
            assert await postgres_schema_version(connection) == LATEST_VERSION
    finally:
        await asyncio.gather(*(s.close() for s in stores))


async def test_one_message_on_two_workers_makes_one_checkin(postgres_database: str) -> None:
    a, b = await open_store(postgres_database), await open_store(postgres_database)
    try:
        await a.set_consent(ALICE)
        for message_id in range(1, 21):  # a redelivered update handled by two workers at the same moment
            ids = await asyncio.gather(
                a.add_checkin(ALICE, HAPPY, "happy", 1, message_id=message_id),
                b.add_checkin(ALICE, HAPPY, "happy", 1, message_id=message_id),
            )
            assert ids[0] == ids[1]
        assert len(await a.checkins(ALICE)) == 20
    finally:
        await a.close()
        await b.close()


async def test_forget_on_one_worker_wins_over_writes_on_another(postgres_database: str) -> None:
    a, b = await open_store(postgres_database), await open_store(postgres_database)
    try:
        for _ in range(10):
            await a.set_consent(ALICE)

            async def write() -> None:
                try:
                    checkin = await a.add_checkin(ALICE, HAPPY, "happy", 1)
                    await a.add_recommendations(ALICE, checkin, "movie", ["m:1"], "happy")
                except (NotConsented, ValueError):
                    pass  # /forget came first: nothing written (ValueError: the check-in was deleted between)

            await asyncio.gather(write(), write(), b.forget(ALICE), write())
            await b.forget(ALICE)  # whatever landed after the first forget goes with the second
            assert await b.checkins(ALICE) == [] and await b.recommendations(ALICE) == []
        # And a forget that lands last leaves nothing, however the writes interleaved.
        await a.set_consent(ALICE)
        await asyncio.gather(*(a.add_checkin(ALICE, HAPPY, "happy", 1) for _ in range(5)))
        await b.forget(ALICE)
        assert await a.checkins(ALICE) == [] and await a.settings(ALICE) == {}
    finally:
        await a.close()
        await b.close()


async def test_settings_changed_on_two_workers_at_once_keep_both_changes(postgres_database: str) -> None:
    a, b = await open_store(postgres_database), await open_store(postgres_database)
    try:
        keys = [f"k{i}" for i in range(12)]
        await asyncio.gather(*((a if i % 2 else b).update_settings(BOB, **{k: i}) for i, k in enumerate(keys)))
        assert await a.settings(BOB) == {k: i for i, k in enumerate(keys)}
    finally:
        await a.close()
        await b.close()


async def test_a_postgresql_database_with_rows_is_upgraded_in_place(postgres_database: str) -> None:
    import asyncpg

    from storage import MIXED
    from storage.postgres_db import migrate_postgres

    connection = await asyncpg.connect(postgres_database)
    try:
        assert await migrate_postgres(connection, target=3) == 3
        await connection.execute(
            "INSERT INTO people (user_id, created_at, consent_at) VALUES (1001, $1, $1)", to_iso(T0)
        )
        checkin = await connection.fetchval(
            "INSERT INTO checkins (user_id, at, angry, disgust, fear, happy, sad, surprise, neutral, top_emotion, "
            "message_id) VALUES (1001, $1, 0, 0, 0, 1, 0, 0, 0, 'happy', 7) RETURNING id",
            to_iso(T0),
        )
        with pytest.raises(asyncpg.CheckViolationError):  # version 3 knows no "mixed"
            await connection.execute("UPDATE checkins SET top_emotion = 'mixed'")
    finally:
        await connection.close()
    store = await open_store(postgres_database)  # migrates the rest, with the rows in place
    try:
        [old] = await store.checkins(ALICE)
        assert (old.id, old.source, old.note, old.top_emotion) == (checkin, "selfie", None, "happy")
        assert await store.add_checkin(ALICE, HAPPY, "happy", 1, message_id=7) == checkin
        assert await store.add_self_report(ALICE, MIXED) > checkin
    finally:
        await store.close()
