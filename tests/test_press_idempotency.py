"""A button press picks catalog items once (Store.pick_recommendations with ``press_id``), however often it arrives.

A webhook worker killed while handling a press leaves it unconfirmed, so Telegram (and the sandbox) delivers the
same update again, maybe to another worker.  Keyed by the callback query's id, the second handling finds the first
one's pick and shows it again instead of recording a second set, which would advance the "no repeats" cycle.
Store tests run on both backends with two stores on one database (two workers); the last test goes through the
real bot and the sandbox.
"""

from __future__ import annotations

import asyncio
import random
from types import SimpleNamespace
from typing import Any

import aiohttp
import pytest
from test_bot_e2e import DIALOGS, Person, agreed

from bot.callback_data import ButtonCodec
from bot.flows import send_items
from catalog import Catalog, load_catalog
from dialogs import load_dialogs
from sandbox import RunningServer
from storage import NotConsented

ALICE, BOB = 1001, 2002
HAPPY = (0, 0, 0, 1, 0, 0, 0)


def chooser(*item_ids: str) -> Any:
    """A choose() that picks ``item_ids`` and counts its calls (``.calls``)."""

    def choose(seen: list[str], feedback: dict[str, int]) -> list[str]:
        choose.calls += 1  # type: ignore[attr-defined]
        return list(item_ids)

    choose.calls = 0  # type: ignore[attr-defined]
    return choose


async def test_the_same_press_twice_gets_its_first_pick_back(stores) -> None:
    a, b = stores
    await a.set_consent(ALICE)
    checkin = await a.add_checkin(ALICE, HAPPY, "happy", 1)
    await a.pick_recommendations(ALICE, checkin, "movies", "happy", chooser("m0"), press_id="q0")
    first_choose, again_choose = chooser("m1", "m2", "m3"), chooser("m4", "m5")
    first = await a.pick_recommendations(ALICE, checkin, "movies", "happy", first_choose, press_id="q1")
    # Redelivered to the other worker: the same rows, in order, and nothing picked or recorded.
    again = await b.pick_recommendations(ALICE, checkin, "movies", "happy", again_choose, press_id="q1")
    assert first.item_ids == again.item_ids == ["m1", "m2", "m3"]
    assert again.rec_ids == first.rec_ids and len(set(first.rec_ids)) == 3
    assert again.seen == first.seen == ["m0"], "what the first handling chose from"
    assert not first.again and again.again
    assert (first_choose.calls, again_choose.calls) == (1, 0)
    rows = await a.recommendations(ALICE, "movies")
    assert [r.item_id for r in rows] == ["m0", "m1", "m2", "m3"]
    assert await a.seen_items(ALICE, "movies") == ["m0", "m1", "m2", "m3"], "the cycle did not move"


async def test_two_workers_handling_one_press_at_once_record_one_pick(stores) -> None:
    a, b = stores
    for user_id in range(1, 9):
        await a.set_consent(user_id)
        press = f"press-{user_id}"
        results = await asyncio.gather(
            a.pick_recommendations(user_id, None, "books", "sad", chooser("b1", "b2", "b3"), press_id=press),
            b.pick_recommendations(user_id, None, "books", "sad", chooser("b7", "b8"), press_id=press),
        )
        assert sorted(r.again for r in results) == [False, True], "one picked, the other found it"
        assert results[0].item_ids == results[1].item_ids and results[0].rec_ids == results[1].rec_ids
        rows = await a.recommendations(user_id)
        assert [r.id for r in rows] == results[0].rec_ids, f"person {user_id}: one pick recorded"


async def test_other_presses_and_presses_without_an_id_pick_anew(stores) -> None:
    a, b = stores
    await a.set_consent(ALICE)
    await a.set_consent(BOB)
    one = await a.pick_recommendations(ALICE, None, "songs", "happy", chooser("s1", "s2"), press_id="q1")
    two = await b.pick_recommendations(ALICE, None, "songs", "happy", chooser("s3", "s4"), press_id="q2")
    assert not two.again and two.item_ids == ["s3", "s4"] and two.seen == ["s1", "s2"]
    # Without a press id (older callers, tests) every call picks and records, as before.
    plain = [await a.pick_recommendations(ALICE, None, "songs", "happy", chooser("s5")) for _ in range(2)]
    assert [p.again for p in plain] == [False, False] and plain[0].rec_ids != plain[1].rec_ids
    assert plain[1].seen == ["s1", "s2", "s3", "s4", "s5"]
    # A late redelivery of the first press still finds it, and the history it was chosen from.
    late = await b.pick_recommendations(ALICE, None, "songs", "happy", chooser("s9"), press_id="q1")
    assert late.again and late.rec_ids == one.rec_ids and late.seen == []
    # Press ids are looked up per person: someone else's press never hands over another person's pick.
    bob = await b.pick_recommendations(BOB, None, "songs", "happy", chooser("s6"), press_id="q1")
    assert not bob.again and bob.item_ids == ["s6"]
    assert [r.item_id for r in await a.recommendations(ALICE)] == ["s1", "s2", "s3", "s4", "s5", "s5"]
    # After /forget the redelivered press records nothing (and finds nothing).
    await a.forget(ALICE)
    with pytest.raises(NotConsented):
        await b.pick_recommendations(ALICE, None, "songs", "happy", chooser("s1"), press_id="q1")
    with pytest.raises(ValueError):
        await a.pick_recommendations(BOB, None, "songs", "happy", chooser("s1"), press_id="")


class _Chat:
    """Records what send_items shows: the text and the buttons (with their signed data)."""

    def __init__(self) -> None:
        self.sent: list[tuple[str, Any]] = []

    async def send_message(self, text: str, reply_markup: Any = None) -> None:
        self.sent.append((text, reply_markup.to_dict() if reply_markup is not None else None))


async def test_send_items_shows_a_redelivered_press_the_same_items(stores) -> None:
    catalog, dialogs = load_catalog(), load_dialogs()
    workers = [
        SimpleNamespace(store=s, catalog=catalog, dialogs=dialogs, codec=ButtonCodec(b"k" * 32), rng=random.Random(n))
        for n, s in enumerate(stores)
    ]
    store = stores[0]
    await store.set_consent(ALICE)
    checkin = await store.add_checkin(ALICE, HAPPY, "happy", 1)
    first, again = _Chat(), _Chat()
    await send_items(workers[0], first, ALICE, checkin, "movies", "happy", supportive=False, dialogs=dialogs,
                     press_id="q1")  # fmt: skip
    await send_items(workers[1], again, ALICE, checkin, "movies", "happy", supportive=False, dialogs=dialogs,
                     press_id="q1")  # fmt: skip
    [(_, first_buttons)] = first.sent
    [(_, again_buttons)] = again.sent
    assert again_buttons == first_buttons, "the same items, with buttons for the same rows"
    rows = await store.recommendations(ALICE)
    assert 3 <= len(rows) <= 5

    # An item taken out of the catalog since is left out; the others are shown again.
    gone = rows[0].item_id
    workers[1].catalog = Catalog({k: v for k, v in catalog.items.items() if k != gone})
    later = _Chat()
    await send_items(workers[1], later, ALICE, checkin, "movies", "happy", supportive=False, dialogs=dialogs,
                     press_id="q1")  # fmt: skip
    [(text, _)] = later.sent
    shown = [catalog.get(r.item_id) for r in rows]
    assert shown[0].title not in text and all(item.title in text for item in shown[1:])
    assert len(await store.recommendations(ALICE)) == len(rows)


async def test_a_press_the_sandbox_delivers_again_shows_its_items_again(
    bot, server: RunningServer, http: aiohttp.ClientSession
) -> None:
    alice = Person(http, ALICE)
    await agreed(bot, ALICE)
    photo_id = await alice.photo("obama.jpg")
    _, offer = await alice.replies(photo_id, 2)
    before = await alice.last_id()
    query = await alice.press(offer, "🎬")
    [items] = await alice.replies(before, 1)
    rows = await bot.services.store.recommendations(ALICE)

    # The same update again (its worker died before confirming it): the same callback query, a new delivery.
    state = server.state
    record = state.callback_queries[query["callback_query_id"]]
    message = state.get_message(record.chat_id, record.message_id)
    payload = {"id": record.id, "from": record.from_user.to_api(), "message": state.message_api(message),
               "chat_instance": "1", "data": record.data}  # fmt: skip
    state._enqueue_update("callback_query", payload)
    [items_again] = await alice.replies(items["message_id"], 1)
    assert items_again["buttons"] == items["buttons"], "the same items, with buttons for the same rows"
    assert await bot.services.store.recommendations(ALICE) == rows
    texts = [m["text"] for m in await alice.messages() if m["sender"] == "bot"]
    assert DIALOGS.text("error") not in texts
