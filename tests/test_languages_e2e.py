"""Replies in the person's language, end to end through the sandbox: Telegram's language_code, the setting, menus."""

from __future__ import annotations

from datetime import datetime, timezone
from zoneinfo import ZoneInfo

import aiohttp
import pytest
from test_bot_e2e import PHOTOS, Bot, Person, agreed, labels

from bot import weekly_summary
from bot.app import COMMANDS
from bot.languages import set_language
from dialogs import Dialogs
from dialogs.i18n import LANGUAGES, load_texts

TEXTS = load_texts()
#: A Telegram language_code per supported language, regional variants included.
TELEGRAM_CODES = {"en": "en-US", "es": "es-MX", "ru": "ru"}

pytestmark = pytest.mark.skipif(not (PHOTOS / "obama.jpg").exists(), reason=f"shared photos missing in {PHOTOS}")


def speaker(http: aiohttp.ClientSession, user_id: int, telegram_code: str) -> Person:
    """A sandbox person whose Telegram app is set to ``telegram_code``."""
    person = Person(http, user_id)
    person.extra = {"language_code": telegram_code}
    return person


def before_field(dialogs: Dialogs, key: str) -> str:
    """The fixed start of a text, up to its first placeholder."""
    return dialogs.variants(key)[0].split("{", 1)[0]


def offered_emotion(dialogs: Dialogs, text: str) -> str:
    return next(e for e in dialogs.emotions if text.endswith(dialogs.offer(e)))


@pytest.mark.parametrize("language", sorted(LANGUAGES))
async def test_start_a_reading_and_the_offer_come_in_the_persons_language(
    bot: Bot, http: aiohttp.ClientSession, language: str
) -> None:
    dialogs = TEXTS.for_language(language)
    user_id = 2000 + sorted(LANGUAGES).index(language)
    person = speaker(http, user_id, TELEGRAM_CODES[language])
    sent = await person.say("/start")
    [welcome] = await person.replies(sent, 1)
    assert welcome["text"] == dialogs.text("welcome")
    assert labels(welcome) == [dialogs.text("consent.keep_label")]

    await agreed(bot, user_id)
    photo_id = await person.photo("obama.jpg")
    reading, offer, *_ = await person.replies(photo_id, 2)
    assert reading["text"].startswith(before_field(dialogs, "reading.single"))
    emotion = offered_emotion(dialogs, offer["text"])
    assert any(
        offer["text"].startswith(line.split("{", 1)[0]) for line in dialogs.variants(f"emotions.{emotion}.lines")
    )
    assert labels(offer) == [b.label for b in dialogs.buttons(emotion)]
    assert labels(reading)[0] == dialogs.text("not_quite.label")

    # The chosen kind's items come with the language's header (catalog titles stay as they are).
    before = await person.last_id()
    await person.press(offer, dialogs.buttons(emotion)[0].label)
    [items] = await person.replies(before, 1)
    first_kind = dialogs.buttons(emotion)[0].offer
    assert any(items["text"].startswith(v) for v in dialogs.variants(f"followups.chosen.{first_kind}"))

    # /history: the summary, the trend and the calendar's streak line in the same language.
    sent = await person.say("/history")
    chart, calendar = await person.replies(sent, 2)
    period = dialogs.text("history_periods.30d")
    assert chart["caption"].startswith(dialogs.text("history_header_one", period=period, count=1))
    assert dialogs.text("history.trend_too_few", count=4) in chart["caption"]
    assert calendar["caption"].startswith(dialogs.text("history.streaks", current=1, longest=1))


async def test_the_language_setting_wins_over_telegram_and_can_be_cleared(
    bot: Bot, http: aiohttp.ClientSession
) -> None:
    person = speaker(http, 2100, "es-ES")
    sent = await person.say("/help")
    [reply] = await person.replies(sent, 1)
    assert reply["text"] == TEXTS.for_language("es").text("help")
    await set_language(bot.services.store, 2100, "ru")  # what /settings calls
    sent = await person.say("/help")
    [reply] = await person.replies(sent, 1)
    assert reply["text"] == TEXTS.for_language("ru").text("help")
    await set_language(bot.services.store, 2100, None)
    sent = await person.say("/help")
    [reply] = await person.replies(sent, 1)
    assert reply["text"] == TEXTS.for_language("es").text("help")
    # A language the bot does not speak gets English.
    other = speaker(http, 2101, "ja")
    sent = await other.say("/help")
    [reply] = await other.replies(sent, 1)
    assert reply["text"] == TEXTS.english.text("help")


async def test_the_command_menu_is_set_in_every_language(bot: Bot, http: aiohttp.ClientSession) -> None:
    async with http.get("/sandbox/commands") as resp:
        lists = {entry["language_code"]: entry["commands"] for entry in (await resp.json())["command_lists"]}
    for code in LANGUAGES:
        menu = lists["" if code == "en" else code]
        assert [c["command"] for c in menu] == list(COMMANDS)
        assert [c["description"] for c in menu] == [TEXTS.for_language(code).text(f"commands.{c}") for c in COMMANDS]


async def test_scheduled_messages_follow_the_telegram_language_last_seen(
    bot: Bot, http: aiohttp.ClientSession, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A weekly summary has no update to read a language_code from: it follows the one the person last wrote with."""
    store = bot.services.store
    await store.update_settings(2200, timezone="America/Mexico_City", weekly_summary=0)  # Mondays, no language set
    person = speaker(http, 2200, "es-MX")
    await person.replies(await person.say("/help"), 1)
    assert (await store.settings(2200))["telegram_language"] == "es"
    before = await person.last_id()
    monday_evening = datetime(2026, 3, 2, 19, 0, tzinfo=ZoneInfo("America/Mexico_City"))
    monkeypatch.setattr(bot.services, "clock", lambda: monday_evening.astimezone(timezone.utc))
    assert await weekly_summary.send_due(bot.services, bot.app.bot) == [2200]
    [summary] = await person.replies(before, 1)
    assert summary["text"] == TEXTS.for_language("es").text("history.weekly_empty")
