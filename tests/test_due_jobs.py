"""Reminders and weekly summaries with several workers on one database (storage.jobs, bot.due_jobs): each due one
is sent once when the workers tick at the same moment, still sent when the worker that scheduled it is gone, and
taken over from a worker that died holding it.  Both backends; each worker is its own store (connection)."""

from __future__ import annotations

import asyncio
import importlib.util
import random
from collections.abc import AsyncIterator
from datetime import timedelta
from types import ModuleType, SimpleNamespace

import pytest
from test_shared_state import T0, Clock

from bot import weekly_summary
from bot.callback_data import ButtonCodec
from bot.due_jobs import LEASE
from bot.reminders import KIND, Reminder, ReminderScheduler
from dialogs import load_dialogs
from storage import Store, open_store
from storage.jobs import DueJobs

DIALOGS = load_dialogs()
PEOPLE = (11, 12, 13)
# T0: Monday 1 June 2026, 12:00 UTC; the reminders are at 21:00 UTC.


class FakeBot:
    """Records what was sent; yields to the loop inside each send, as a real request would."""

    def __init__(self) -> None:
        self.sent: list[int] = []

    async def send_message(self, chat_id: int, text: str, reply_markup=None) -> None:
        await asyncio.sleep(0)
        self.sent.append(chat_id)


def worker(store: Store, clock: Clock) -> SimpleNamespace:
    """The parts of Services the scheduled messages use."""
    return SimpleNamespace(
        store=store,
        clock=clock,
        texts=None,
        dialogs=DIALOGS,
        dialogs_in=lambda settings, code=None: DIALOGS,
        rng=random.Random(0),
        codec=ButtonCodec(b"k" * 32),
    )


@pytest.fixture
async def stores(database: str) -> AsyncIterator[tuple[Store, Store]]:
    a, b = await open_store(database), await open_store(database)
    yield a, b
    await a.close()
    await b.close()


async def _with_reminders(store: Store) -> None:
    for user_id in PEOPLE:
        await store.set_consent(user_id)
        await store.update_settings(user_id, reminder=Reminder(21 * 60).as_setting())


async def test_two_workers_ticking_at_once_send_each_reminder_once(stores) -> None:
    clock, bot = Clock(), FakeBot()
    await _with_reminders(stores[0])
    schedulers = [ReminderScheduler(worker(s, clock)) for s in stores]
    for scheduler in schedulers:  # both workers start
        await scheduler.rebuild()
    for day in range(12):
        clock.now = T0 + timedelta(days=day, hours=9, seconds=1)
        before = len(bot.sent)
        results = await asyncio.gather(*(s.run_due(bot) for s in schedulers), *(s.run_due(bot) for s in schedulers))
        assert sorted(bot.sent[before:]) == list(PEOPLE), f"day {day}: {bot.sent[before:]}"
        assert sorted(u for r in results for u in r) == list(PEOPLE)
    assert set((await schedulers[1].scheduled()).values()) == {T0 + timedelta(days=12, hours=9)}


async def test_a_reminder_fires_from_another_worker_after_the_one_that_scheduled_it_is_gone(database: str) -> None:
    clock, bot = Clock(), FakeBot()
    a, b = await open_store(database), await open_store(database)
    try:
        worker_b = ReminderScheduler(worker(b, clock))
        await worker_b.rebuild()  # B starts before the person asks for a reminder
        await _with_reminders(a)
        worker_a = ReminderScheduler(worker(a, clock))
        for user_id in PEOPLE:
            await worker_a.refresh(user_id)  # the settings change is handled on worker A
        await a.close()
        clock.now = T0 + timedelta(hours=9, minutes=1)
        assert sorted(await worker_b.run_due(bot)) == list(PEOPLE)
        assert await worker_b.run_due(bot) == []
    finally:
        await b.close()


async def test_a_job_held_by_a_dead_worker_is_taken_over_after_its_lease(database: str) -> None:
    clock, bot = Clock(), FakeBot()
    dead, alive = await open_store(database), await open_store(database)
    try:
        await _with_reminders(alive)
        survivor = ReminderScheduler(worker(alive, clock))
        await survivor.rebuild()
        clock.now = T0 + timedelta(hours=9, seconds=1)
        held = await DueJobs(dead.database).claim(KIND, clock.now, LEASE)  # claimed, then the worker dies
        assert held is not None
        await dead.close()
        others = sorted(set(PEOPLE) - {held.user_id})
        assert sorted(await survivor.run_due(bot)) == others
        clock.now += LEASE
        assert await survivor.run_due(bot) == [held.user_id]
        assert sorted(bot.sent) == sorted(PEOPLE)
    finally:
        await alive.close()


async def test_a_claim_taken_over_cannot_be_finished_by_its_first_holder(stores) -> None:
    await _with_reminders(stores[0])
    jobs_a, jobs_b = DueJobs(stores[0].database), DueJobs(stores[1].database)
    due = T0 + timedelta(hours=9)
    await jobs_a.schedule(KIND, PEOPLE[0], due)
    slow = await jobs_a.claim(KIND, due, LEASE)
    assert slow is not None and await jobs_b.claim(KIND, due, LEASE) is None  # held
    late = await jobs_b.claim(KIND, due + LEASE, LEASE)
    assert late is not None and late.user_id == slow.user_id
    assert not await jobs_a.finish(slow, due + timedelta(days=1))  # the first holder lost it
    assert await jobs_b.finish(late, due + timedelta(days=1))
    assert (await jobs_a.scheduled(KIND))[PEOPLE[0]] == due + timedelta(days=1)


def _own_copy(module: ModuleType) -> ModuleType:
    """A fresh copy of ``module``, as a second worker process has: nothing held in module state is shared."""
    spec = importlib.util.find_spec(module.__name__)
    assert spec is not None and spec.loader is not None
    copy = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(copy)
    return copy


async def test_two_workers_send_each_weekly_summary_once(stores) -> None:
    clock, bot = Clock(), FakeBot()
    for user_id in PEOPLE:
        await stores[0].update_settings(user_id, weekly_summary=0)  # Mondays, UTC
    workers = [(_own_copy(weekly_summary), worker(s, clock)) for s in stores]
    for week in range(4):
        clock.now = T0 + timedelta(weeks=week, hours=6, minutes=week)  # Monday 18:00 and after
        before = len(bot.sent)
        await asyncio.gather(*(module.send_due(w, bot) for module, w in workers for _ in range(2)))
        assert sorted(bot.sent[before:]) == list(PEOPLE), f"week {week}: {bot.sent[before:]}"
        clock.now += timedelta(hours=1)
        assert await weekly_summary.send_due(workers[1][1], bot) == []
