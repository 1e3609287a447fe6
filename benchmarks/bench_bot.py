"""Bot benchmark against the local sandbox: selfie -> reply latency, and many people at once.

Usage: python benchmarks/bench_bot.py [--sends 30] [--users 20] [--per-user 5] [--workers N]

(a) one selfie at a time: the time from the control API send (POST /sandbox/send_photo, upload included) until
    the bot's reading appears in the chat, over ``--sends`` photos; target p50 <= 300 ms.
(b) ``--users`` people each sending ``--per-user`` photos, all at once: every photo must get its reading, with
    no error replies, no rate-limit refusals and one check-in row per photo in SQLite.

Everything runs in this process: the sandbox server, the real Application (long polling), and the clients.
Reply times come from the sandbox's own event timestamps, so polling delays of the client do not count.
The model is weights/ or FER_MODEL_DIR. Wall-clock figures: run on an otherwise idle machine.
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import logging
import os
import resource
import sqlite3
import statistics
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import aiohttp

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bot.app import build_application, polling, running  # noqa: E402
from bot.config import Settings  # noqa: E402
from bot.services import close_services, open_services  # noqa: E402
from fer_engine.classifier import DEFAULT_MODEL_DIR  # noqa: E402
from fer_engine.datasets import data_dir  # noqa: E402
from sandbox import RunningServer, start_server  # noqa: E402

#: Real photos in which the engine finds (and reads) at least one face; two_people.jpg gives an annotated reply.
PHOTOS = ("obama.jpg", "biden.jpg", "img1.jpg", "obama-1080p.jpg", "two_people.jpg")
TARGET_P50_MS = 300.0


class ErrorCounter(logging.Handler):
    """Counts ERROR log records (the bot's error handler logs every unhandled exception)."""

    def __init__(self) -> None:
        super().__init__(logging.ERROR)
        self.count = 0

    def emit(self, record: logging.LogRecord) -> None:
        self.count += 1


@dataclass
class Result:
    name: str
    latencies_ms: list[float]
    expected: int
    error_replies: int
    refusals: int
    checkins: int
    seconds: float


def percentile(values: list[float], q: float) -> float:
    """Nearest-rank percentile (q in 0..100)."""
    ordered = sorted(values)
    return ordered[max(0, min(len(ordered) - 1, round(q / 100 * len(ordered) + 0.5) - 1))]


class Client:
    """Acts as people through the control API and collects the bot's reading replies from the event feed."""

    def __init__(self, server: RunningServer, session: aiohttp.ClientSession, photos: dict[str, bytes]) -> None:
        self.server = server
        self.session = session
        self.photos = photos

    async def send_photo(self, user_id: int, name: str) -> tuple[int, float]:
        """(message id, wall time just before the upload started)."""
        form = aiohttp.FormData()
        form.add_field("user_id", str(user_id))
        form.add_field("file", self.photos[name], filename=name, content_type="image/jpeg")
        started = time.time()
        async with self.session.post(f"{self.server.url}/sandbox/send_photo", data=form) as resp:
            body = await resp.json()
        if resp.status != 200:
            raise RuntimeError(f"send_photo failed: {body}")
        return body["message"]["message_id"], started

    async def wait_replies(self, sent: dict[tuple[int, int], float], after_seq: int, timeout: float) -> dict:
        """Reading replies (bot messages replying to each sent photo): {(chat, photo id): (event time, view)}."""
        found: dict[tuple[int, int], tuple[float, dict]] = {}
        deadline = time.monotonic() + timeout
        seq = after_seq
        while len(found) < len(sent) and time.monotonic() < deadline:
            url = f"{self.server.url}/sandbox/events?after={seq}&timeout=2"
            async with self.session.get(url) as resp:
                body = await resp.json()
            for event in body["events"]:
                seq = max(seq, event["seq"])
                message = event.get("message")
                if event["type"] != "message" or not message or message["sender"] != "bot":
                    continue
                key = (message["chat_id"], message.get("reply_to_message_id"))
                if key in sent and key not in found:
                    found[key] = (event["at"], message)
        return found

    async def bot_texts(self, chat_ids: list[int]) -> list[str]:
        texts = []
        for chat_id in chat_ids:
            async with self.session.get(f"{self.server.url}/sandbox/chats/{chat_id}/messages") as resp:
                messages = (await resp.json())["messages"]
            texts += [m["text"] or m["caption"] or "" for m in messages if m["sender"] == "bot"]
        return texts


def count_checkins(db_path: Path, user_ids: list[int]) -> int:
    with sqlite3.connect(db_path) as db:
        marks = ",".join("?" * len(user_ids))
        return db.execute(f"SELECT COUNT(*) FROM checkins WHERE user_id IN ({marks})", user_ids).fetchone()[0]


async def scenario(
    name: str, client: Client, jobs: list[tuple[int, str]], *, sequential: bool, db_path: Path, dialogs
) -> Result:
    """Send ``jobs`` (user id, photo) one by one or all at once and measure each reading's latency."""
    started = time.perf_counter()
    after = client.server.state.last_seq
    latencies: list[float] = []
    sent: dict[tuple[int, int], float] = {}
    if sequential:
        for user_id, photo in jobs:
            message_id, t0 = await client.send_photo(user_id, photo)
            one = {(user_id, message_id): t0}
            replies = await client.wait_replies(one, after, timeout=30)
            after = client.server.state.last_seq
            sent.update(one)
            latencies += [(at - t0) * 1000 for (at, _) in replies.values()]
    else:
        results = await asyncio.gather(*(client.send_photo(u, p) for u, p in jobs))
        sent = {(u, mid): t0 for (u, _), (mid, t0) in zip(jobs, results, strict=True)}
        replies = await client.wait_replies(sent, after, timeout=120)
        latencies = [(at - sent[key]) * 1000 for key, (at, _) in replies.items()]
    await asyncio.sleep(0.5)  # let the offers after the last readings go out before counting
    users = sorted({u for u, _ in jobs})
    texts = await client.bot_texts(users)
    error_text = dialogs.text("error")
    limited_prefix = dialogs.text("rate_limited", seconds=60).split("60")[0]
    return Result(
        name=name,
        latencies_ms=latencies,
        expected=len(jobs),
        error_replies=sum(t == error_text for t in texts),
        refusals=sum(t.startswith(limited_prefix) for t in texts),
        checkins=count_checkins(db_path, users),
        seconds=time.perf_counter() - started,
    )


def table(results: list[Result], peak_rss_mib: float, errors_logged: int) -> str:
    header = (
        f"{'scenario':<34} {'sent':>5} {'answered':>8} {'p50 ms':>8} {'p95 ms':>8} {'max ms':>8} "
        f"{'photos/s':>8} {'errors':>6} {'refused':>7} {'check-ins':>9}"
    )
    lines = [header, "-" * len(header)]
    for r in results:
        lat = r.latencies_ms or [float("nan")]
        lines.append(
            f"{r.name:<34} {r.expected:>5} {len(r.latencies_ms):>8} {statistics.median(lat):>8.0f} "
            f"{percentile(lat, 95):>8.0f} {max(lat):>8.0f} {r.expected / r.seconds:>8.1f} {r.error_replies:>6} "
            f"{r.refusals:>7} {r.checkins:>9}"
        )
    lines.append("-" * len(header))
    lines.append(f"peak RSS of this process (sandbox + bot + clients): {peak_rss_mib:.0f} MiB")
    lines.append(f"ERROR log records: {errors_logged}")
    return "\n".join(lines)


async def main(args: argparse.Namespace) -> int:
    photos_dir = data_dir() / "photos"
    photos = {name: (photos_dir / name).read_bytes() for name in PHOTOS}
    errors = ErrorCounter()
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    logging.getLogger().addHandler(errors)

    with tempfile.TemporaryDirectory() as tmp:
        db_path = Path(tmp) / "bench.db"
        server = await start_server("127.0.0.1", 0)
        settings = Settings(
            token=server.token,
            db_path=db_path,
            api_base_url=server.base_url,
            file_base_url=server.base_file_url,
            workers=args.workers,
        )
        services = await open_services(settings)
        app = build_application(settings, services)
        try:
            async with running(app, polling()), aiohttp.ClientSession() as session:
                client = Client(server, session, photos)
                cycle = itertools.cycle(PHOTOS)
                model = os.environ.get("FER_MODEL_DIR") or DEFAULT_MODEL_DIR
                print(
                    f"MoodLens bot benchmark: sandbox {server.url}, model {model},"
                    f" {settings.workers} recognition workers, {os.cpu_count()} CPUs, "
                    f"limits {settings.photos_per_minute}/min and {settings.photos_in_flight} in flight per person",
                    flush=True,
                )
                # Warm-up: every worker thread builds its interpreter on first use.
                await scenario("warm-up", client, [(9000 + i, p) for i, p in enumerate(PHOTOS)], sequential=False,
                               db_path=db_path, dialogs=services.dialogs)  # fmt: skip
                # (a) one person at a time, a fresh person per selfie (so the per-minute quota never applies).
                one_by_one = [(10_000 + i, next(cycle)) for i in range(args.sends)]
                a = await scenario(
                    "(a) one selfie at a time", client, one_by_one, sequential=True, db_path=db_path,
                    dialogs=services.dialogs,
                )  # fmt: skip
                # (b) everyone at once: each person's photos queue behind their own in-flight limit.
                crowd = [(20_000 + u, next(cycle)) for u in range(args.users) for _ in range(args.per_user)]
                b = await scenario(
                    f"(b) {args.users} users x {args.per_user} photos at once", client, crowd, sequential=False,
                    db_path=db_path, dialogs=services.dialogs,
                )  # fmt: skip
        finally:
            await close_services(services)
            await server.stop()

    peak_rss_mib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(table([a, b], peak_rss_mib, errors.count))
    ok_a = bool(a.latencies_ms) and statistics.median(a.latencies_ms) <= TARGET_P50_MS
    ok_b = len(b.latencies_ms) == b.expected and b.error_replies == 0 and b.refusals == 0 and b.checkins == b.expected
    print(f"(a) p50 <= {TARGET_P50_MS:.0f} ms: {'PASS' if ok_a else 'FAIL'}")
    print(f"(b) every photo answered, no errors, every check-in stored: {'PASS' if ok_b else 'FAIL'}")
    return 0 if ok_a and ok_b and errors.count == 0 else 1


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sends", type=int, default=30, help="photos for (a), one at a time")
    parser.add_argument("--users", type=int, default=20, help="people for (b)")
    parser.add_argument("--per-user", type=int, default=5, help="photos per person for (b), sent at once")
    parser.add_argument("--workers", type=int, default=Settings().workers, help="recognition threads")
    return parser.parse_args(argv)


if __name__ == "__main__":
    os.environ.setdefault("NO_PROXY", "127.0.0.1,localhost")
    sys.exit(asyncio.run(main(parse_args())))
