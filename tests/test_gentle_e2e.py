"""The support notice through the real bot: the person's country's crisis line beside findahelpline.com."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from typing import Any

import aiohttp
import pytest
from test_bot_e2e import ALICE, BOB, DIALOGS, PHOTOS, Bot, Person, agreed

from bot.support_notice import support_notice

SAD = (0.05, 0.0, 0.05, 0.0, 0.8, 0.0, 0.1)

pytestmark = pytest.mark.skipif(not (PHOTOS / "obama.jpg").exists(), reason=f"shared photos missing in {PHOTOS}")


async def low_days_then_a_quick_sad_check_in(bot: Bot, person: Person) -> list[dict[str, Any]]:
    """Four low check-ins a day and a half ago, then "sad" from /mood: the notice is due; the bot's replies."""
    now = datetime.now(timezone.utc)
    for hours in (39, 38, 37, 36):
        await bot.services.store.add_checkin(person.user_id, SAD, "sad", 1, at=now - timedelta(hours=hours))
    sent = await person.say("/mood")
    [prompt] = await person.replies(sent, 1)
    before = await person.last_id()
    await person.press(prompt, DIALOGS.label("sad"))
    return await person.replies(before, 2)


async def test_the_support_notice_names_the_crisis_line_of_the_persons_zone(
    bot: Bot, http: aiohttp.ClientSession
) -> None:
    alice, bob = Person(http, ALICE), Person(http, BOB)
    await agreed(bot, ALICE, BOB)
    await bot.services.store.update_settings(ALICE, timezone="Europe/Berlin")
    notice, offer = await low_days_then_a_quick_sad_check_in(bot, alice)
    assert notice["text"] == support_notice(DIALOGS, {"timezone": "Europe/Berlin"})
    assert "TelefonSeelsorge" in notice["text"] and "https://findahelpline.com" in notice["text"]
    assert offer["text"] == DIALOGS.offer("sad")

    # No zone or language that implies a country: findahelpline.com alone, as before.
    notice, _ = await low_days_then_a_quick_sad_check_in(bot, bob)
    assert notice["text"] == DIALOGS.text("support_notice")
