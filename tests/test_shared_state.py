"""What several bot workers on one database must agree on: per-person rate limits and in-flight slots
(bot.rate_limit over storage.limits) and "no repeats" picks (Store.pick_recommendations).  Each test opens two
stores on one database, one per worker, on both backends (two connections to one SQLite file are two processes)."""

from __future__ import annotations

import asyncio
import random
from datetime import datetime, timedelta, timezone
from types import SimpleNamespace

import pytest
from test_recommendation_cycles import _Chat

from bot.callback_data import ButtonCodec
from bot.flows import send_items
from bot.rate_limit import LEASE, RateLimited, RateLimiter
from catalog import load_catalog
from dialogs import load_dialogs
from storage import NotConsented, Store, open_store
from storage.limits import RateLimits

ALICE, BOB = 1001, 2002
T0 = datetime(2026, 6, 1, 12, 0, tzinfo=timezone.utc)


class Clock:
    """A movable clock (the limits' and the schedules' "now")."""

    def __init__(self) -> None:
        self.now = T0

    def __call__(self) -> datetime:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += timedelta(seconds=seconds)


def limiters(stores: tuple[Store, Store], clock: Clock, per_minute: int = 10, in_flight: int = 2, **kw):
    return [RateLimiter(RateLimits(s.database), "photos", per_minute, in_flight, clock=clock, **kw) for s in stores]


# -- one worker: the behaviour people see -------------------------------------------------------------------------


async def test_per_minute_quota_and_retry_after(stores) -> None:
    clock = Clock()
    [limiter, _] = limiters(stores, clock, per_minute=3, notice_interval=10)
    for _ in range(3):
        async with await limiter.admit(ALICE):
            clock.advance(1)
    with pytest.raises(RateLimited) as first:
        await limiter.admit(ALICE)
    assert first.value.notify and first.value.retry_after == pytest.approx(57)
    with pytest.raises(RateLimited) as second:
        await limiter.admit(ALICE)
    assert not second.value.notify  # told a moment ago
    async with await limiter.admit(BOB):  # others are unaffected
        pass
    clock.advance(58)
    async with await limiter.admit(ALICE):
        pass


async def test_in_flight_limit_queues_the_same_person_only(stores) -> None:
    [limiter, _] = limiters(stores, Clock(), in_flight=1)
    running = {ALICE: 0, BOB: 0}
    peak = {ALICE: 0, BOB: 0}

    async def job(who: int) -> None:
        async with await limiter.admit(who):
            running[who] += 1
            peak[who] = max(peak[who], running[who])
            await asyncio.sleep(0.01)
            running[who] -= 1

    await asyncio.gather(*(job(ALICE) for _ in range(4)), *(job(BOB) for _ in range(2)))
    assert peak == {ALICE: 1, BOB: 1}
    assert await limiter.active(ALICE) == 0


async def test_rows_are_pruned_after_the_window(stores) -> None:
    """What is kept about a person's requests is gone a minute later."""
    clock = Clock()
    [limiter, _] = limiters(stores, clock, per_minute=5, notice_interval=0)
    ticket = await limiter.admit(ALICE)
    await ticket.aclose()
    await ticket.aclose()  # idempotent
    await limiter.count(BOB)
    assert await limiter.limits.rows() == 2
    clock.advance(61)
    await limiter.count(ALICE)  # each admission prunes the person's old rows, and everyone's once a minute
    assert await limiter.limits.rows() == 1
    with pytest.raises(ValueError):
        RateLimiter(limiter.limits, "photos", per_minute=0, in_flight=1)


# -- two workers ----------------------------------------------------------------------------------------------------


async def test_the_quota_counts_photos_on_every_worker(stores) -> None:
    clock = Clock()
    a, b = limiters(stores, clock)
    for n in range(10):  # a person's updates alternate between the workers
        await (await (a if n % 2 else b).admit(ALICE)).aclose()
        clock.advance(1)
    for worker in (a, b):
        with pytest.raises(RateLimited):
            await worker.admit(ALICE)
    # The friendly refusal was shown once, by whichever worker refused first.
    with pytest.raises(RateLimited) as again:
        await a.admit(ALICE)
    assert not again.value.notify
    clock.advance(51)  # the first photo leaves the window
    await (await b.admit(ALICE)).aclose()


async def test_the_in_flight_limit_holds_across_workers(stores) -> None:
    clock = Clock()
    a, b = limiters(stores, clock, in_flight=1)
    first = await a.admit(ALICE)
    await first.__aenter__()
    waiting = asyncio.create_task(_enter(await b.admit(ALICE)))
    await asyncio.sleep(0.3)
    assert not waiting.done(), "the photo on worker B must wait for the one on worker A"
    assert await b.active(ALICE) == 2
    await first.aclose()
    second = await asyncio.wait_for(waiting, 5)
    await second.aclose()
    assert await a.active(ALICE) == 0


async def test_a_slot_of_a_dead_worker_is_free_once_its_lease_runs_out(database: str) -> None:
    clock = Clock()
    dead, alive = await open_store(database), await open_store(database)
    try:
        a, b = limiters((dead, alive), clock, in_flight=1)
        held = await a.admit(ALICE)
        await held.__aenter__()
        held._renewing.cancel()  # the worker dies holding the slot: no renewal, no release
        await dead.close()
        clock.advance(5)
        waiting = asyncio.create_task(_enter(await b.admit(ALICE)))
        await asyncio.sleep(0.3)
        assert not waiting.done()
        clock.advance(LEASE.total_seconds())
        ticket = await asyncio.wait_for(waiting, 5)
        await ticket.aclose()
    finally:
        await alive.close()


async def _enter(ticket):
    return await ticket.__aenter__()


# -- "no repeats" picks ---------------------------------------------------------------------------------------------


async def test_presses_of_more_on_two_workers_never_repeat_an_item(stores) -> None:
    kind, emotion = "activities", "happy"  # 14 items: two presses of 3-5 never need a repeat
    catalog, dialogs = load_catalog(), load_dialogs()
    workers = [
        SimpleNamespace(store=s, catalog=catalog, dialogs=dialogs, codec=ButtonCodec(b"k" * 32), rng=random.Random(n))
        for n, s in enumerate(stores)
    ]
    store = stores[0]
    for user_id in range(1, 9):
        chat = _Chat()
        await store.set_consent(user_id)
        checkin = await store.add_checkin(user_id, (0, 0, 0, 1, 0, 0, 0), emotion, 1)
        presses = [
            send_items(w, chat, user_id, checkin, kind, emotion, supportive=False, dialogs=dialogs) for w in workers
        ]
        await asyncio.gather(*presses)
        shown = await store.seen_items(user_id, kind)
        assert len(chat.sent) == 2 and len(shown) >= 6
        assert len(set(shown)) == len(shown), f"person {user_id} saw an item twice in one cycle: {shown}"


async def test_a_pick_records_nothing_without_consent(stores) -> None:
    store = stores[0]
    with pytest.raises(NotConsented):
        await store.pick_recommendations(BOB, None, "movies", "happy", lambda seen, feedback: ["m1"])
    assert await store.recommendations(BOB) == []
    await store.set_consent(BOB)
    first = await store.pick_recommendations(BOB, None, "movies", "happy", lambda seen, feedback: ["m1", "m2"])
    second = await store.pick_recommendations(BOB, None, "movies", "happy", lambda seen, feedback: seen[:1])
    assert first.seen == [] and first.item_ids == ["m1", "m2"] and len(first.rec_ids) == 2
    assert second.seen == ["m1", "m2"] and second.item_ids == ["m1"]
