"""Time zones, /settings, retention and reminders, end to end through the sandbox (see tests/test_bot_e2e.py)."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from typing import Any

import aiohttp
import pytest
from test_bot_e2e import ALICE, BOB, DIALOGS, PHOTOS, SECRET, Bot, Person, agreed, labels, running_bot, settle

from bot import retention
from bot.callback_data import Action, ButtonCodec, ButtonData
from sandbox import RunningServer

pytestmark = pytest.mark.skipif(not (PHOTOS / "obama.jpg").exists(), reason=f"shared photos missing in {PHOTOS}")


async def _post(http: aiohttp.ClientSession, path: str, payload: dict[str, Any]) -> dict[str, Any]:
    async with http.post(path, json=payload) as resp:
        body = await resp.json()
        assert resp.status == 200, body
        return body


# -- the time zone ----------------------------------------------------------------------------------------------


async def test_zone_is_asked_once_after_the_first_checkin_and_set_by_a_button(
    bot: Bot, http: aiohttp.ClientSession
) -> None:
    alice = Person(http, ALICE)
    store = bot.services.store
    await store.set_consent(ALICE)
    photo_id = await alice.photo("obama.jpg")
    reading, offer, ask, hint = await alice.replies(photo_id, 4)
    assert ask["text"] == DIALOGS.text("settings.zone.ask_first")
    assert any(label.startswith("Berlin · UTC+0") for label in labels(ask))
    assert labels(ask)[-1] == DIALOGS.text("settings.zone.other_label")
    [[location]] = hint["reply_markup"]["keyboard"]  # Telegram's "send my location" button, private chats only
    assert location["request_location"] is True

    before = await alice.last_id()
    query = await alice.press(ask, "Berlin")
    assert query["answered"]
    [done] = await alice.replies(before, 1)
    assert done["text"].startswith(DIALOGS.text("settings.zone.set", zone="Europe/Berlin", offset="X", time="X")[:30])
    assert "Europe/Berlin" in done["text"] and done["reply_markup"] == {"remove_keyboard": True}
    assert (await store.settings(ALICE))["timezone"] == "Europe/Berlin"
    asked = next(m for m in await alice.messages() if m["message_id"] == ask["message_id"])
    assert asked["buttons"] == []  # answered: the buttons go

    # Asked once: the next check-in goes straight to the offer.
    photo_id = await alice.photo("obama.jpg")
    await alice.replies(photo_id, 2)
    assert len(await settle(alice, photo_id)) == 2


async def test_zone_typed_after_other_by_command_and_from_a_location(bot: Bot, http: aiohttp.ClientSession) -> None:
    bob = Person(http, BOB)
    store = bot.services.store
    sent = await bob.say("/timezone")
    ask, _hint = await bob.replies(sent, 2)
    before = await bob.last_id()
    await bob.press(ask, DIALOGS.text("settings.zone.other_label"))
    [prompt] = await bob.replies(before, 1)
    assert prompt["text"] == DIALOGS.text("settings.zone.ask_typed")

    # A typo: not found, a suggestion, and the question stays open.
    sent = await bob.say("Berln")
    [miss] = await bob.replies(sent, 1)
    assert DIALOGS.text("settings.zone.not_found", text="Berln") in miss["text"] and "Berlin" in miss["text"]
    sent = await bob.say("new york")
    [done] = await bob.replies(sent, 1)
    assert "America/New_York" in done["text"]
    assert (await store.settings(BOB))["timezone"] == "America/New_York"
    # Answered: the next text is ordinary text again.
    sent = await bob.say("Lisbon")
    [free] = await bob.replies(sent, 1)
    assert free["text"] in DIALOGS.variants("free_text")
    assert (await store.settings(BOB))["timezone"] == "America/New_York"

    sent = await bob.say("/timezone asia/kolkata")
    [done] = await bob.replies(sent, 1)
    assert "Asia/Kolkata" in done["text"] and (await store.settings(BOB))["timezone"] == "Asia/Kolkata"

    # A shared location: the nearest big city's zone; the location itself is kept nowhere.
    body = await _post(http, "/sandbox/send_location", {"user_id": BOB, "latitude": 48.2, "longitude": 11.6})
    [done] = await bob.replies(body["message"]["message_id"], 1)
    assert "Europe/Berlin" in done["text"] and (await store.settings(BOB))["timezone"] == "Europe/Berlin"
    settings = await store.settings(BOB)
    assert "48.2" not in str(settings) and "awaiting" not in settings


# -- /settings ----------------------------------------------------------------------------------------------------


class Clock:
    """A clock the test moves (Services.clock): reminders and retention run at once instead of after waiting."""

    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now


async def _latest(person: Person, message: dict[str, Any]) -> dict[str, Any]:
    """The message as it is now (after edits)."""
    return next(m for m in await person.messages() if m["message_id"] == message["message_id"])


async def test_settings_changes_take_effect(bot: Bot, http: aiohttp.ClientSession) -> None:
    alice = Person(http, ALICE)
    store = bot.services.store
    sent = await alice.say("/settings")
    [menu] = await alice.replies(sent, 1)
    assert menu["text"] == DIALOGS.text(
        "settings.menu.text",
        zone="UTC (UTC)",
        reminder=DIALOGS.text("settings.remind.off"),
        retention=DIALOGS.text("settings.retention.forever"),
        weekly=DIALOGS.text("settings.weekly.off"),
        language=DIALOGS.text("settings.language.auto", name="English"),  # no language_code in the sandbox
    )
    sections = ("zone_label", "reminder_label", "retention_label", "weekly_label", "language_label")
    assert labels(menu) == [DIALOGS.text(f"settings.menu.{key}") for key in sections]

    # Weekly summary on Sundays: stored as weekday 6, shown in the menu the message turns back into.
    await alice.press(menu, DIALOGS.text("settings.menu.weekly_label"))
    await alice.press(await _latest(alice, menu), DIALOGS.text("settings.weekdays.sun"))
    menu = await _latest(alice, menu)
    sunday = DIALOGS.text("settings.weekly.on_day", day=DIALOGS.text("settings.weekdays.sun"))
    assert (await store.settings(ALICE))["weekly_summary"] == 6 and f"📅 Weekly summary: {sunday}" in menu["text"]

    # A reminder at 21:00: stored, scheduled, shown.
    await alice.press(menu, DIALOGS.text("settings.menu.reminder_label"))
    await alice.press(await _latest(alice, menu), "21:00")
    menu = await _latest(alice, menu)
    assert (await store.settings(ALICE))["reminder"] == {"at": "21:00", "window_minutes": 0}
    assert DIALOGS.text("settings.remind.at", time="21:00") in menu["text"]
    assert (await bot.services.reminders.scheduled())[ALICE].astimezone(timezone.utc).strftime("%H:%M") == "21:00"

    # The time zone (a new message with the zone buttons): Tokyo moves the reminder to 21:00 Tokyo time.
    before = await alice.last_id()
    await alice.press(menu, DIALOGS.text("settings.menu.zone_label"))
    zones, _hint = await alice.replies(before, 2)
    await alice.press(zones, "Tokyo")
    await alice.replies(zones["message_id"] + 1, 1)
    assert (await store.settings(ALICE))["timezone"] == "Asia/Tokyo"
    assert (await bot.services.reminders.scheduled())[ALICE].astimezone(timezone.utc).strftime("%H:%M") == "12:00"

    # Back to the menu; the reminder off; the weekly summary off.
    await alice.press(zones, DIALOGS.text("settings.menu.back_label"))
    menu = await _latest(alice, zones)
    assert "Asia/Tokyo (UTC+09:00)" in menu["text"]
    await alice.press(menu, DIALOGS.text("settings.menu.reminder_label"))
    await alice.press(await _latest(alice, menu), DIALOGS.text("settings.remind.off_label"))
    await alice.press(await _latest(alice, menu), DIALOGS.text("settings.menu.weekly_label"))
    await alice.press(await _latest(alice, menu), DIALOGS.text("settings.weekly.off_label"))
    settings = await store.settings(ALICE)
    assert "reminder" not in settings and "weekly_summary" not in settings
    assert ALICE not in await bot.services.reminders.scheduled()

    # The language: Spanish from here on (the menu says so, /help answers in it); then the Telegram app's again.
    await alice.press(menu, DIALOGS.text("settings.menu.language_label"))
    await alice.press(await _latest(alice, menu), "Español")
    menu = await _latest(alice, menu)
    assert (await store.settings(ALICE))["language"] == "es" and "Español" in menu["text"]
    spanish = bot.services.texts.for_language("es")
    [help_text] = await alice.replies(await alice.say("/help"), 1)
    assert help_text["text"] == spanish.text("help") != DIALOGS.text("help")
    await alice.press(menu, spanish.text("settings.menu.language_label"))
    await alice.press(await _latest(alice, menu), spanish.text("settings.language.auto_label"))
    assert "language" not in await store.settings(ALICE)

    # Buttons signed for someone else do nothing.
    forged = ButtonCodec(SECRET).encode(BOB, ButtonData(Action.RETENTION, days=90))
    query = await alice.press(menu, data=forged)
    assert query["answer"]["text"] == DIALOGS.text("stale_button")
    assert "retention_days" not in await store.settings(ALICE)


async def test_retention_deletes_old_rows_now_daily_and_at_start_up(
    server: RunningServer, http: aiohttp.ClientSession, database: str, analyzer: Any
) -> None:
    clock = Clock(datetime(2026, 6, 1, 12, tzinfo=timezone.utc))
    happy = (0.0, 0.0, 0.0, 1.0, 0.0, 0.0, 0.0)
    alice = Person(http, ALICE)
    async with running_bot(server, database, analyzer, clock=clock) as bot:
        store = bot.services.store
        await agreed(bot, ALICE, BOB)
        ids = {}
        for days in (400, 100, 10):
            ids[days] = await store.add_checkin(ALICE, happy, "happy", 1, at=clock.now - timedelta(days=days))
            await store.add_recommendations(ALICE, ids[days], "movies", [f"m{days}"], "happy")
        await store.add_checkin(BOB, happy, "happy", 1, at=clock.now - timedelta(days=400))

        sent = await alice.say("/settings")
        [menu] = await alice.replies(sent, 1)
        await alice.press(menu, DIALOGS.text("settings.menu.retention_label"))
        await alice.press(await _latest(alice, menu), DIALOGS.text("settings.retention.days_365"))
        assert [c.id for c in await store.checkins(ALICE)] == [ids[100], ids[10]]
        assert [r.item_id for r in await store.recommendations(ALICE)] == ["m100", "m10"]
        menu = await _latest(alice, menu)
        assert DIALOGS.text("settings.retention.deleted", count=1) in menu["text"]
        await alice.press(menu, DIALOGS.text("settings.menu.retention_label"))
        await alice.press(await _latest(alice, menu), DIALOGS.text("settings.retention.days_90"))
        assert [c.id for c in await store.checkins(ALICE)] == [ids[10]]
        assert (await store.settings(ALICE))["retention_days"] == 90
        assert len(await store.checkins(BOB)) == 1, "only the person's own setting counts"

        # The daily sweep: 85 days later the 10-day-old check-in is 95 days old.
        clock.now += timedelta(days=85)
        assert await retention.sweep(bot.services) == 1 and await store.checkins(ALICE) == []
        await store.add_checkin(ALICE, happy, "happy", 1, at=clock.now - timedelta(days=91))

    # At start-up, before anything else.
    async with running_bot(server, database, analyzer, clock=clock) as bot:
        assert await bot.services.store.checkins(ALICE) == []
        assert len(await bot.services.store.checkins(BOB)) == 1


# -- reminders ----------------------------------------------------------------------------------------------------


async def test_reminder_fires_skips_follows_dst_survives_restart_and_stops_when_blocked(
    server: RunningServer, http: aiohttp.ClientSession, database: str, analyzer: Any
) -> None:
    # Friday 27 March 2026, 20:00 UTC = 21:00 in Berlin; Berlin springs forward on Sunday the 29th.
    clock = Clock(datetime(2026, 3, 27, 20, 0, tzinfo=timezone.utc))
    alice = Person(http, ALICE)
    happy = (0.0, 0.0, 0.0, 1.0, 0.0, 0.0, 0.0)

    async def tick(bot: Bot, to: datetime) -> list[dict[str, Any]]:
        """Move the clock, let due reminders go out, and return what the bot sent meanwhile."""
        before = await alice.last_id()
        clock.now = to
        await bot.services.reminders.run_due(bot.app.bot)
        return await settle(alice, before)

    async with running_bot(server, database, analyzer, clock=clock) as bot:
        await agreed(bot, ALICE)
        await alice.replies(await alice.say("/timezone Berlin"), 1)
        sent = await alice.say("/remind")
        [prompt] = await alice.replies(sent, 1)
        assert prompt["text"] == DIALOGS.text("settings.remind.prompt", zone="Europe/Berlin")
        sent = await alice.say("21:30")  # typed after /remind
        [done] = await alice.replies(sent, 1)
        assert done["text"] == DIALOGS.text("settings.remind.set", value=DIALOGS.text("settings.remind.at",
                                            time="21:30"), zone="Europe/Berlin")  # fmt: skip

        assert await tick(bot, datetime(2026, 3, 27, 20, 29, tzinfo=timezone.utc)) == []  # 21:29 local: not yet
        [reminder] = await tick(bot, datetime(2026, 3, 27, 20, 31, tzinfo=timezone.utc))
        assert reminder["text"] in DIALOGS.variants("settings.remind.text") and labels(reminder)  # quick check-in
        assert await tick(bot, datetime(2026, 3, 27, 20, 40, tzinfo=timezone.utc)) == []  # once a day

        # Saturday: a check-in in the morning (local day) skips the evening's reminder.
        await bot.services.store.add_checkin(ALICE, happy, "happy", 1, at=datetime(2026, 3, 28, 8, tzinfo=timezone.utc))
        assert await tick(bot, datetime(2026, 3, 28, 20, 31, tzinfo=timezone.utc)) == []
        # Sunday is summer time: 21:30 in Berlin is 19:30 UTC now, not 20:30.
        assert (await bot.services.reminders.scheduled())[ALICE] == datetime(2026, 3, 29, 19, 30, tzinfo=timezone.utc)

    # A restart rebuilds the schedule from the database.
    async with running_bot(server, database, analyzer, clock=clock) as bot:
        assert (await bot.services.reminders.scheduled())[ALICE] == datetime(2026, 3, 29, 19, 30, tzinfo=timezone.utc)
        [reminder] = await tick(bot, datetime(2026, 3, 29, 19, 31, tzinfo=timezone.utc))
        assert reminder["text"] in DIALOGS.variants("settings.remind.text")

        # Blocked: the reminder stops quietly and is turned off.
        await _post(http, f"/sandbox/chats/{ALICE}/block", {"blocked": True})
        assert await tick(bot, datetime(2026, 3, 30, 19, 31, tzinfo=timezone.utc)) == []
        assert "reminder" not in await bot.services.store.settings(ALICE)
        assert ALICE not in await bot.services.reminders.scheduled()
