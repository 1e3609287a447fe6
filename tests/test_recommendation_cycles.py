""""No repeats until the pool runs out" through the real store, over several cycles and under double taps."""

from __future__ import annotations

import asyncio
import random
from pathlib import Path
from types import SimpleNamespace

import pytest

from bot.callback_data import ButtonCodec
from bot.flows import send_items
from catalog import load_catalog, recommend
from dialogs import load_dialogs
from storage import open_store

KIND, EMOTION = "activities", "happy"  # the smallest pool in the catalog: 14 items


@pytest.fixture
async def store(tmp_path: Path):
    s = await open_store(tmp_path / "mood.db")
    await s.set_consent(1)
    yield s
    await s.close()


async def test_every_cycle_shows_the_whole_pool_before_repeating(store) -> None:
    catalog = load_catalog()
    pool = {it.id for it in catalog.by_kind(KIND) if EMOTION in it.emotions and not it.support}
    assert len(pool) == 14
    in_cycle: set[str] = set()
    for call in range(4 * len(pool) // 4 + 3):  # four full cycles and a bit
        seen = await store.seen_items(1, KIND)
        picks = [it.id for it in recommend(catalog, KIND, EMOTION, seen=seen, feedback={}, count=4,
                                           rng=random.Random(call))]  # fmt: skip
        unshown = pool - in_cycle
        if len(unshown) >= len(picks):
            assert set(picks) <= unshown, f"request {call + 1} repeats an item of the current cycle"
        else:
            assert unshown <= set(picks), f"request {call + 1} leaves unshown items for later"
        for item_id in picks:  # the cycle ends the moment every item of the pool was shown
            in_cycle.add(item_id)
            if in_cycle >= pool:
                in_cycle = set()
        await store.add_recommendations(1, None, KIND, picks, EMOTION)


class _Chat:
    def __init__(self) -> None:
        self.sent: list[str] = []

    async def send_message(self, text: str, reply_markup=None) -> None:
        self.sent.append(text)


async def test_a_double_tap_on_more_shows_different_items(store) -> None:
    services = SimpleNamespace(store=store, catalog=load_catalog(), dialogs=load_dialogs(),
                               codec=ButtonCodec(b"k" * 32), rng=random.Random(0))  # fmt: skip
    for user_id in range(1, 6):
        chat = _Chat()
        await store.set_consent(user_id)
        checkin = await store.add_checkin(user_id, (0, 0, 0, 1, 0, 0, 0), EMOTION, 1)
        taps = [
            send_items(services, chat, user_id, checkin, KIND, EMOTION, supportive=False, dialogs=services.dialogs)
            for _ in range(2)
        ]
        await asyncio.gather(*taps)
        shown = await store.seen_items(user_id, KIND)
        assert len(chat.sent) == 2 and len(shown) >= 6
        assert len(set(shown)) == len(shown), f"person {user_id} saw an item twice in one cycle: {shown}"
