"""A bad day: the real bot against a Bot API that fails on purpose, then SIGKILL and a restart.

    python benchmarks/fault_injection.py [--people 20] [--photos 4] [--seed 1]

The sandbox answers part of the bot's calls with 429 or 502, cuts some connections, and serves every
file download slower than PTB's 5 s default.  Meanwhile 20 people send selfies, a photo without a face
and a broken JPEG.  Once part of the answers are out, the bot process is killed with SIGKILL and started
again on the same database.  Then it checks what was promised:

* every photo is answered, by a reading or a clear message (the generic error counts as a failure);
* every check-in a person was shown (a reading with its "Not quite" button) is in the database, which
  passes ``PRAGMA integrity_check``, and no photo became two check-ins;
* nobody sees another's data: each chat's replies answer that chat's photos, and each /export holds
  exactly that person's check-ins.

Exit status 0 when every check holds.  Needs ``../shared/data/photos``.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import signal
import sqlite3
import sys
import tempfile
import time
from pathlib import Path

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
    send_photo,
    wait_until,
)
from dialogs import load_dialogs  # noqa: E402
from fer_engine.datasets import data_dir  # noqa: E402
from sandbox import start_server  # noqa: E402
from sandbox.faults import FaultPlan  # noqa: E402
from storage import open_store  # noqa: E402

TOKEN = "4242424242:FAULTS-benchmark-token_0123456789"
SELFIES = ("obama.jpg", "biden.jpg")
BROKEN_JPEG = b"\xff\xd8\xff\xe0 not really a jpeg at all"
#: Kill the bot once this share of photos has been answered.
KILL_AFTER_SHARE = 0.35
ANSWER_TIMEOUT_S = 240.0


def plan(seed: int) -> FaultPlan:
    """The bad day: a fifth of calls refused or lost, every download 6 s."""
    return FaultPlan(rate_limited=0.1, retry_after=1, server_errors=0.07, dropped=0.03, download_delay=6.0, seed=seed)


def bot_env(db: Path, api: str) -> dict[str, str]:
    env = dict(os.environ)
    env.update(
        TELEGRAM_BOT_TOKEN=TOKEN, TELEGRAM_API_BASE_URL=api, MOODLENS_DB_PATH=str(db), LOG_LEVEL="WARNING",
        PHOTOS_PER_MINUTE="1000", PHOTOS_IN_FLIGHT="4", BOT_MODE="polling", NO_PROXY="127.0.0.1,localhost",
        no_proxy="127.0.0.1,localhost",
    )  # fmt: skip
    return env


async def start_bot(env: dict[str, str], log_path: Path) -> asyncio.subprocess.Process:
    log = log_path.open("ab")
    return await asyncio.create_subprocess_exec(
        sys.executable, "-m", "bot", cwd=PROJECT_ROOT, env=env, stdout=log, stderr=log
    )


async def run(args: argparse.Namespace) -> int:
    photos_dir = data_dir() / "photos"
    selfies = [(photos_dir / name).read_bytes() for name in SELFIES]
    dialogs = load_dialogs()
    work = Path(tempfile.mkdtemp(prefix="moodlens-faults-"))
    db, log_path = work / "bot.db", work / "bot.log"
    store = await open_store(db)
    people = [Person(user_id) for user_id in range(1, args.people + 1)]
    for person in people:  # they agreed to keep check-ins earlier
        await store.set_consent(person.user_id)
    await store.close()

    server = await start_server("127.0.0.1", 0, token=TOKEN)
    server.state.config.faults = plan(args.seed)
    env = bot_env(db, server.base_url)
    process = await start_bot(env, log_path)
    started = time.monotonic()
    try:
        async with aiohttp.ClientSession(base_url=server.url) as http:

            async def send_all(person: Person) -> None:
                for i in range(args.photos):
                    data, name = selfies[(person.user_id + i) % len(selfies)], f"selfie{i}.jpg"
                    person.photos.append(await send_photo(http, person.user_id, data, name))
                person.photos.append(await send_photo(http, person.user_id, BROKEN_JPEG, "broken.jpg", "document"))

            await asyncio.gather(*(send_all(p) for p in people))
            total = sum(len(p.photos) for p in people)
            await wait_until(lambda: answered(server, people) >= KILL_AFTER_SHARE * total, ANSWER_TIMEOUT_S)
            process.kill()
            await process.wait()
            killed_at = time.monotonic() - started
            told = {p.user_id: acknowledged(server, p) for p in people}
            answered_before = answered(server, people)
            process = await start_bot(env, log_path)
            done = await wait_until(lambda: all_answered(server, people), ANSWER_TIMEOUT_S)
            finished_at = time.monotonic() - started
            counts = dict(server.state.config.faults.counts)
            server.state.config.faults = FaultPlan()  # the exports below are checks, not part of the bad day
            exports = {p.user_id: await export_ids(http, p.user_id) for p in people}
    finally:
        if process.returncode is None:
            process.send_signal(signal.SIGINT)
            await asyncio.wait_for(process.wait(), 30)
        await server.stop()

    with sqlite3.connect(db) as conn:
        integrity = conn.execute("PRAGMA integrity_check").fetchone()[0]
        stored = {u: [r[0] for r in conn.execute("SELECT id FROM checkins WHERE user_id = ? ORDER BY id", (u,))]
                  for u in told}  # fmt: skip

    kinds = answer_kinds(server, people, dialogs)
    faces_sent = {p.user_id: args.photos for p in people}
    missing = {u: told[u] - len(stored[u]) for u in told if len(stored[u]) < told[u]}
    duplicates = {u: len(stored[u]) - faces_sent[u] for u in stored if len(stored[u]) > faces_sent[u]}
    export_mismatch = [u for u in stored if exports[u] != stored[u]]
    # Each person's shown readings are exactly their stored check-ins: none landed with someone else.
    crossed = [p.user_id for p in people if acknowledged(server, p) != len(stored[p.user_id])]

    print(f"people {args.people}, photos {sum(len(p.photos) for p in people)} "
          f"({args.photos} selfies + 1 broken JPEG each), seed {args.seed}")  # fmt: skip
    print(f"faults injected: {counts or 'none'}; every download delayed {plan(args.seed).download_delay:g} s")
    print(f"SIGKILL at {killed_at:.1f} s with {answered_before} answers out; all answered by {finished_at:.1f} s"
          if done else f"SIGKILL at {killed_at:.1f} s; NOT all answered within {ANSWER_TIMEOUT_S:.0f} s")  # fmt: skip
    print("answers: " + ", ".join(f"{k} {v}" for k, v in kinds.items()))
    print(f"check-ins shown before the kill {sum(told.values())}, stored {sum(len(v) for v in stored.values())}, "
          f"missing {sum(missing.values())}, duplicated {sum(duplicates.values())}")  # fmt: skip
    print(f"integrity_check: {integrity}; people whose readings and check-ins differ: {crossed}; "
          f"/export mismatches: {export_mismatch}")  # fmt: skip
    ok = (done and kinds["unanswered"] == 0 and kinds["generic error"] == 0 and not missing and not duplicates
          and integrity == "ok" and not crossed and not export_mismatch)  # fmt: skip
    print("RESULT:", "every promise kept" if ok else "FAILED", f"(bot log: {log_path})")
    return 0 if ok else 1


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--people", type=int, default=20)
    parser.add_argument("--photos", type=int, default=4, help="selfies per person (plus one broken JPEG)")
    parser.add_argument("--seed", type=int, default=1)
    sys.exit(asyncio.run(run(parser.parse_args())))


if __name__ == "__main__":
    main()
