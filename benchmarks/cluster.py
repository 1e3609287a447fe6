"""Past one machine: real PostgreSQL, HAProxy and bot workers in webhook mode, against the sandbox.

    python benchmarks/cluster.py [--people 20] [--photos 4] [--throughput-photos 5]

The sandbox delivers updates by webhook like Telegram (retrying what is not answered 2xx) to HAProxy, which
spreads them over the workers (``deploy.cluster``: WEBHOOK_REGISTER=0 workers, ``set-webhook`` once).

1. Throughput: the same load (every person sends ``--throughput-photos`` selfies at once) through the proxy
   to one worker, then to two, each on a fresh database and warmed up by a few photos first: photos answered
   per second, from the first photo sent to the last one answered.
2. A worker dies: two workers; every person sends ``--photos`` selfies and presses the movie button under
   their first reading.  Once a third of the photos are answered, worker 1 is killed with SIGKILL; the
   supervisor starts it again.  Then it checks what was promised:

   * every photo is answered with a reading (no generic error, none unanswered), every button press answered;
   * no check-in lost or doubled: PostgreSQL holds exactly one check-in per photo, including every reading a
     person was shown before the kill;
   * nobody sees another's data: each person's readings match their own stored check-ins, their /export holds
     exactly those, and the movies they were offered hang off their own check-ins;
   * a daily reminder that falls due during the run (a row of the due-jobs table) is sent exactly once,
     though both workers tick and one of them is killed and restarted.

Exit status 0 when every check holds.  Needs HAProxy, PostgreSQL's server binaries and ``../shared/data/photos``.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import sys
import tempfile
import time
from collections.abc import AsyncIterator
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import aiohttp

PROJECT_ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(PROJECT_ROOT))

from benchmarks.sandbox_people import (  # noqa: E402
    Person,
    acknowledged,
    all_answered,
    answer_kinds,
    answered,
    export_ids,
    press,
    send_photo,
    wait_until,
)
from bot.reminders import KIND as REMINDER_KIND  # noqa: E402
from bot.reminders import SETTING as REMINDER  # noqa: E402
from bot.reminders import TICK, Reminder  # noqa: E402
from deploy.cluster import Cluster, cluster_env  # noqa: E402
from deploy.local_postgres import LocalPostgres, free_port  # noqa: E402
from dialogs import load_dialogs  # noqa: E402
from fer_engine.datasets import data_dir  # noqa: E402
from sandbox import RunningServer, start_server  # noqa: E402
from storage import open_store  # noqa: E402
from storage.jobs import DueJobs  # noqa: E402

TOKEN = "4242424242:CLUSTER-benchmark-token_0123456789"
SELFIES = ("obama.jpg", "biden.jpg")
#: Kill worker 1 once this share of photos has been answered.
KILL_AFTER_SHARE = 0.35
ANSWER_TIMEOUT_S = 300.0
MOVIES = "🎬"
#: The reminder falls due this long after the SIGKILL run begins: while the photos are still coming in.
REMINDER_DUE_AFTER = timedelta(seconds=10)


@contextlib.asynccontextmanager
async def running_cluster(server: RunningServer, database_url: str, workers: int, work: Path) -> AsyncIterator[Cluster]:
    """HAProxy and ``workers`` bot workers on ``database_url``, registered with the sandbox; stopped on exit."""
    proxy = free_port()
    values = {
        "TELEGRAM_BOT_TOKEN": TOKEN, "TELEGRAM_API_BASE_URL": server.base_url, "TELEGRAM_FILE_BASE_URL": "",
        "WEBHOOK_URL": f"http://127.0.0.1:{proxy}/moodlens", "WEBHOOK_SECRET_TOKEN": "", "LOG_LEVEL": "WARNING",
        "PHOTOS_PER_MINUTE": "1000", "PHOTOS_IN_FLIGHT": "4", "NO_PROXY": "127.0.0.1,localhost",
        "no_proxy": "127.0.0.1,localhost",
    }  # fmt: skip
    log = (work / f"cluster-{workers}.log").open("ab")
    cluster = Cluster(
        cluster_env({**os.environ, **values}, database_url), workers=workers, port=proxy, bind="127.0.0.1",
        worker_ports=[free_port() for _ in range(workers)], run_dir=work, output=log,
    )  # fmt: skip
    stop = asyncio.Event()
    supervisor: asyncio.Task | None = None
    try:
        await cluster.start()
        supervisor = asyncio.create_task(cluster.supervise(stop))
        yield cluster
    finally:
        stop.set()
        if supervisor is not None:
            await supervisor
        await cluster.stop()
        log.close()


async def remind_soon(database_url: str, person: Person, due_at: datetime) -> None:
    """A daily reminder for ``person`` (who sends nothing, so it is not skipped), next due at ``due_at``.

    The daily time is a minute ago, so after this one fires the next is tomorrow: a second message in the
    test could only be the same reminder sent twice.
    """
    store = await open_store(database_url)
    try:
        await store.set_consent(person.user_id)
        daily = Reminder(minute=(due_at.hour * 60 + due_at.minute - 1) % (24 * 60))
        await store.update_settings(person.user_id, timezone_asked=True, **{REMINDER: daily.as_setting()})
        await DueJobs(store.database).schedule(REMINDER_KIND, person.user_id, due_at)
    finally:
        await store.close()


async def agreed(database_url: str, people: list[Person]) -> None:
    """They all said "keep my check-ins" earlier and were asked for their time zone."""
    store = await open_store(database_url)
    try:
        for person in people:
            await store.set_consent(person.user_id)
            await store.update_settings(person.user_id, timezone_asked=True)
    finally:
        await store.close()


async def send_selfies(http: aiohttp.ClientSession, people: list[Person], selfies: list[bytes], each: int) -> None:
    async def one(person: Person) -> None:
        for i in range(each):
            data = selfies[(person.user_id + i) % len(selfies)]
            person.photos.append(await send_photo(http, person.user_id, data, f"selfie{i}.jpg"))

    await asyncio.gather(*(one(p) for p in people))


async def throughput(server: RunningServer, pg: LocalPostgres, workers: int, args: argparse.Namespace,
                     selfies: list[bytes], work: Path) -> tuple[int, float]:  # fmt: skip
    """Photos answered and seconds taken for the same burst through ``workers`` workers."""
    url = pg.create_database(f"throughput_{workers}")
    people = [Person(1000 * workers + i) for i in range(1, args.people + 1)]
    warm_up = [Person(1000 * workers + 999)]
    await agreed(url, people + warm_up)
    async with running_cluster(server, url, workers, work), aiohttp.ClientSession(base_url=server.url) as http:
        # Two photos per worker first, outside the clock: every worker has its model loaded and its pools warm.
        await send_selfies(http, warm_up, selfies, 2 * workers)
        await wait_until(lambda: all_answered(server, warm_up), ANSWER_TIMEOUT_S)
        started = time.monotonic()
        await send_selfies(http, people, selfies, args.throughput_photos)
        # Polled often: the time to the last answer is the measurement.
        done = await wait_until(lambda: all_answered(server, people), ANSWER_TIMEOUT_S, every=0.02)
        seconds = time.monotonic() - started
    if not done:
        raise RuntimeError(f"{workers} worker(s): not every photo answered within {ANSWER_TIMEOUT_S:.0f} s")
    return answered(server, people), seconds


def reminders_sent(server: RunningServer, person: Person, texts: set[str]) -> list[Any]:
    """The reminders in the person's chat (any of the reminder texts)."""
    return [m for m in server.state.transcript(person.user_id) if m.sender == "bot" and m.text in texts]


def button(message: Any, prefix: str) -> str | None:
    """The callback data of the first button whose label starts with ``prefix``."""
    for row in (message.reply_markup or {}).get("inline_keyboard", []):
        for b in row:
            if b.get("text", "").startswith(prefix) and b.get("callback_data"):
                return b["callback_data"]
    return None


async def press_movies(server: RunningServer, http: aiohttp.ClientSession, person: Person) -> bool:
    """Wait for the person's first offer, press its movie button; True when the bot answered the press."""
    offer = await server.state.wait_for(
        lambda: next((m for m in server.state.transcript(person.user_id) if m.sender == "bot" and button(m, MOVIES)),
                     None), ANSWER_TIMEOUT_S)  # fmt: skip
    query = await press(http, person.user_id, offer.message_id, button(offer, MOVIES) or "")
    return bool(query.get("answered"))


async def killed_worker(server: RunningServer, pg: LocalPostgres, args: argparse.Namespace, selfies: list[bytes],
                        work: Path) -> bool:  # fmt: skip
    """The SIGKILL run; prints what it found, returns whether every promise was kept."""
    url = pg.create_database("killed_worker")
    people = [Person(i) for i in range(1, args.people + 1)]
    await agreed(url, people)
    reminded = Person(args.people + 1)
    due_at = datetime.now(timezone.utc) + REMINDER_DUE_AFTER
    await remind_soon(url, reminded, due_at)
    dialogs = load_dialogs()
    started, wall_start = time.monotonic(), time.time()
    async with running_cluster(server, url, 2, work) as cluster, aiohttp.ClientSession(base_url=server.url) as http:
        # The reminded person has talked to the bot before (Telegram sends nothing to a chat that never began).
        async with http.post("/sandbox/send_message", json={"user_id": reminded.user_id, "text": "/privacy"}):
            pass
        presses = asyncio.gather(*(press_movies(server, http, p) for p in people))
        await send_selfies(http, people, selfies, args.photos)
        total = len(people) * args.photos
        await wait_until(lambda: answered(server, people) >= KILL_AFTER_SHARE * total, ANSWER_TIMEOUT_S)
        victim = cluster.worker_children[0]
        assert victim.process is not None
        victim.process.kill()  # SIGKILL: no drain, no goodbye
        killed_at, answered_before = time.monotonic() - started, answered(server, people)
        told = {p.user_id: acknowledged(server, p) for p in people}
        await wait_until(lambda: victim.restarts > 0, 30)
        await cluster.wait_healthy(victim)
        back_at = time.monotonic() - started
        done = await wait_until(lambda: all_answered(server, people), ANSWER_TIMEOUT_S)
        pressed = await asyncio.wait_for(presses, ANSWER_TIMEOUT_S)
        finished_at = time.monotonic() - started
        exports = {p.user_id: await export_ids(http, p.user_id) for p in people}
        # Every worker ticks every TICK; the reminder fires at the first tick after it is due.  Then each worker
        # ticks at least once more: a second copy would show up by then.
        texts = set(dialogs.variants("settings.remind.text"))
        fired = await wait_until(lambda: bool(reminders_sent(server, reminded, texts)), ANSWER_TIMEOUT_S)
        fired_at = time.monotonic() - started
        await asyncio.sleep(TICK.total_seconds() + 5)
        reminders = len(reminders_sent(server, reminded, texts))
    retried = sum(1 for at, _ in server.state.webhook_errors if at >= wall_start)

    store = await open_store(url)
    try:
        stored = {p.user_id: [c.id for c in await store.checkins(p.user_id)] for p in people}
        offered = {p.user_id: await store.recommendations(p.user_id, "movies") for p in people}
    finally:
        await store.close()

    kinds = answer_kinds(server, people, dialogs)
    missing = {u: told[u] - len(stored[u]) for u in told if len(stored[u]) < told[u]}
    doubled = {u: len(ids) - args.photos for u, ids in stored.items() if len(ids) > args.photos}
    short = {u: args.photos - len(ids) for u, ids in stored.items() if len(ids) < args.photos}
    crossed = [p.user_id for p in people if acknowledged(server, p) != len(stored[p.user_id])]
    export_mismatch = [u for u in stored if sorted(exports[u]) != sorted(stored[u])]
    foreign_offers = [u for u, recs in offered.items() if not recs or any(r.checkin_id not in stored[u] for r in recs)]
    # One press of Movies each: one pick (its rows share one time), even when the press was delivered twice.
    picks_doubled = [u for u, recs in offered.items() if len({r.shown_at for r in recs}) > 1]

    print(f"killed worker: {len(people)} people, {total} selfies ({args.photos} each), 2 workers, PostgreSQL")
    print(f"  SIGKILL of worker 1 at {killed_at:.1f} s with {answered_before} answers out; restarted and healthy at "
          f"{back_at:.1f} s; {'all answered' if done else 'NOT all answered'} by {finished_at:.1f} s")  # fmt: skip
    print(f"  deliveries the sandbox had to retry (refused or cut while a worker was down): {retried}")
    print("  answers: " + ", ".join(f"{k} {v}" for k, v in kinds.items()))
    print(f"  button presses answered: {sum(pressed)} of {len(pressed)}")
    print(f"  check-ins shown before the kill {sum(told.values())}; in PostgreSQL {sum(map(len, stored.values()))} "
          f"(expected {total}); lost {sum(missing.values()) + sum(short.values())}, "
          f"doubled {sum(doubled.values())}")  # fmt: skip
    print(f"  people whose readings and stored check-ins differ: {crossed}; /export mismatches: {export_mismatch}; "
          f"offers not on their own check-ins: {foreign_offers}")  # fmt: skip
    print(f"  movie picks recorded twice (one press each, some delivered twice): {picks_doubled}")
    due_in = due_at.timestamp() - wall_start
    print(f"  a reminder due at {due_in:.1f} s: " + (f"first sent at {fired_at:.1f} s; " if fired else "never sent; ")
          + f"messages after {TICK.total_seconds() + 5:.0f} s more: {reminders} (expected 1)")  # fmt: skip
    return (reminders == 1 and done and all(pressed) and kinds["unanswered"] == 0 and kinds["generic error"] == 0
            and kinds["reading"] == total and not missing and not doubled and not short and not crossed
            and not export_mismatch and not foreign_offers and not picks_doubled)  # fmt: skip


async def run(args: argparse.Namespace) -> int:
    selfies = [(data_dir() / "photos" / name).read_bytes() for name in SELFIES]
    work = Path(tempfile.mkdtemp(prefix="moodlens-cluster-bench-"))
    pg = LocalPostgres(work / "postgres").start()
    server = await start_server("127.0.0.1", 0, token=TOKEN)
    try:
        rates = {}
        for workers in (1, 2):
            photos, seconds = await throughput(server, pg, workers, args, selfies, work)
            rates[workers] = photos / seconds
            print(f"throughput, {workers} worker(s): {photos} photos from {args.people} people answered in "
                  f"{seconds:.1f} s = {rates[workers]:.2f} photos/s")  # fmt: skip
        print(f"  two workers / one: x{rates[2] / rates[1]:.2f}")
        ok = await killed_worker(server, pg, args, selfies, work)
    finally:
        await server.stop()
        pg.stop()
    print("RESULT:", "every promise kept" if ok else "FAILED", f"(logs: {work})")
    return 0 if ok else 1


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--people", type=int, default=20)
    parser.add_argument("--photos", type=int, default=4, help="selfies per person in the SIGKILL run")
    parser.add_argument("--throughput-photos", type=int, default=5, help="selfies per person in each throughput run")
    sys.exit(asyncio.run(run(parser.parse_args())))


if __name__ == "__main__":
    main()
