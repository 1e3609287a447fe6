"""Several MoodLens webhook workers behind HAProxy on one machine, without compose or systemd.

    python -m deploy.cluster --workers 2 --port 8443 [--postgres-dir DIR] [--tls-pem cert.pem]

Reads the bot's settings like ``python -m bot`` (environment over ``.env``): TELEGRAM_BOT_TOKEN and WEBHOOK_URL
are needed, DATABASE_URL (or ``--postgres-dir`` for a local throwaway PostgreSQL; else the shared SQLite file)
and WEBHOOK_SECRET_TOKEN (else a random one for this run) are used.  It renders the proxy config, starts the
workers (each on 127.0.0.1 and its own port, WEBHOOK_REGISTER=0) and haproxy, registers the webhook once
(``python -m bot set-webhook``), restarts a worker or the proxy that dies, restarts the workers one at a time on
SIGHUP (a deploy without downtime), and on Ctrl-C/SIGTERM lets the workers finish the updates in hand, then stops
the proxy (and the database it started).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import logging
import secrets
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO
from urllib.parse import urlsplit

import aiohttp

from bot.config import PROJECT_ROOT, WEBHOOK_SECRET_BYTES, read_env
from bot.webhook_server import DRAIN_TIMEOUT_S, HEALTH_PATH
from deploy import haproxy
from deploy.local_postgres import LocalPostgres

log = logging.getLogger("deploy.cluster")

FIRST_WORKER_PORT = 9001
#: How long a worker may take to load the model and answer /healthz.
START_TIMEOUT_S = 120.0
#: Pauses before restarting a child that died, growing while it keeps dying young; the last one repeats.
RESTART_DELAYS = (0.5, 1.0, 2.0, 5.0, 15.0)
#: A child that ran this long counts as healthy again: its next death restarts it at once.
STABLE_AFTER_S = 60.0


@dataclass
class Child:
    """One supervised process: a worker or the proxy."""

    name: str
    argv: list[str]
    env: dict[str, str]
    health_url: str | None = None
    process: asyncio.subprocess.Process | None = None
    started_at: float = 0.0
    restarts: int = 0
    quick_deaths: int = 0
    #: Set while we stop it on purpose, so the supervisor does not bring it back.
    stopping: bool = False

    async def start(self, output: IO[bytes] | None) -> None:
        # A session of its own: Ctrl-C in the terminal reaches only the supervisor, which stops the
        # children in order (workers drain first) instead of all at once.
        self.process = await asyncio.create_subprocess_exec(
            *self.argv, cwd=PROJECT_ROOT, env=self.env, stdout=output, stderr=output, start_new_session=True
        )
        self.started_at = time.monotonic()
        self.stopping = False

    async def stop(self, sig: int, timeout: float) -> None:
        """Send ``sig``, wait up to ``timeout``, then SIGKILL."""
        self.stopping = True
        if self.process is None or self.process.returncode is not None:
            return
        with contextlib.suppress(ProcessLookupError):
            self.process.send_signal(sig)
        try:
            await asyncio.wait_for(self.process.wait(), timeout)
        except TimeoutError:
            log.warning("%s did not stop within %.0f s; killing it", self.name, timeout)
            with contextlib.suppress(ProcessLookupError):
                self.process.kill()
            await self.process.wait()


@dataclass
class Cluster:
    """The proxy and N workers.  ``start()``, then ``supervise(stop)`` until ``stop`` is set, then ``stop()``."""

    env: dict[str, str]
    workers: int = 2
    port: int = 8443
    bind: str = "0.0.0.0"
    worker_ports: list[int] = field(default_factory=list)
    run_dir: Path = field(default_factory=lambda: Path(tempfile.mkdtemp(prefix="moodlens-cluster-")))
    tls_pem: Path | None = None
    #: Where the children's output goes; None: this process's own stdout/stderr.
    output: IO[bytes] | None = None
    children: list[Child] = field(default_factory=list)

    @property
    def worker_children(self) -> list[Child]:
        return [c for c in self.children if c.name.startswith("worker")]

    @property
    def webhook_url(self) -> str:
        return self.env["WEBHOOK_URL"]

    async def start(self) -> None:
        """Start the workers, wait until each is healthy, start the proxy, register the webhook once."""
        ports = self.worker_ports or [FIRST_WORKER_PORT + i for i in range(self.workers)]
        config = haproxy.ProxyConfig(
            port=self.port,
            path=urlsplit(self.webhook_url).path or "/",
            workers=tuple(("127.0.0.1", p) for p in ports),
            bind=self.bind,
            tls_pem=self.tls_pem,
        )
        config_file = self.run_dir / "haproxy.cfg"
        config_file.write_text(config.render())
        haproxy.check(config_file)
        executable = haproxy.binary()
        assert executable is not None  # check() raised otherwise
        for i, port in enumerate(ports, 1):
            env = {**self.env, "BOT_MODE": "webhook", "WEBHOOK_REGISTER": "0", "WEBHOOK_LISTEN": "127.0.0.1",
                   "WEBHOOK_PORT": str(port)}  # fmt: skip
            health = f"http://127.0.0.1:{port}{HEALTH_PATH}"
            self.children.append(Child(f"worker{i}", [sys.executable, "-m", "bot"], env, health))
        for child in self.children:
            await child.start(self.output)
        await asyncio.gather(*(self.wait_healthy(c) for c in self.worker_children))
        # The proxy last: its first health checks then find the workers up, and no update meets an empty backend.
        proxy = Child("haproxy", [executable, "-db", "-f", str(config_file)], dict(self.env))
        self.children.append(proxy)
        await proxy.start(self.output)
        await _wait_listening("127.0.0.1" if self.bind in ("0.0.0.0", "::") else self.bind, self.port, proxy)
        await self.register_webhook()
        log.info(
            "HAProxy on %s:%d in front of %d workers (%s); Telegram posts to %s",
            self.bind, self.port, len(ports), ", ".join(f"127.0.0.1:{p}" for p in ports), self.webhook_url,
        )  # fmt: skip

    async def wait_healthy(self, child: Child, timeout: float = START_TIMEOUT_S) -> None:
        """Until the child's /healthz answers 200; RuntimeError when it exits or takes too long."""
        assert child.health_url is not None and child.process is not None
        deadline = time.monotonic() + timeout
        async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=2)) as http:
            while time.monotonic() < deadline:
                if child.process.returncode is not None:
                    raise RuntimeError(f"{child.name} exited with status {child.process.returncode} while starting")
                with contextlib.suppress(aiohttp.ClientError, TimeoutError):
                    async with http.get(child.health_url) as resp:
                        if resp.status == 200:
                            return
                await asyncio.sleep(0.2)
        raise RuntimeError(f"{child.name} was not healthy within {timeout:.0f} s")

    async def register_webhook(self) -> None:
        """``python -m bot set-webhook``: the URL and the shared secret, once for all workers."""
        process = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "bot", "set-webhook", cwd=PROJECT_ROOT, env=self.env,
            stdout=self.output, stderr=self.output,
        )  # fmt: skip
        if await process.wait():
            raise RuntimeError(f"python -m bot set-webhook failed with status {process.returncode}")

    async def supervise(self, stop: asyncio.Event, reload: asyncio.Event | None = None) -> None:
        """Restart any child that dies (waiting longer while it keeps dying young) until ``stop`` is set;
        a set ``reload`` restarts the workers one at a time."""
        reload = reload or asyncio.Event()
        while not stop.is_set():
            if reload.is_set():
                reload.clear()
                await self.rolling_restart()
            for child in self.children:
                assert child.process is not None
                if child.process.returncode is not None and not child.stopping and not stop.is_set():
                    await self._restart(child)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), 0.2)

    async def _restart(self, child: Child) -> None:
        assert child.process is not None
        lived = time.monotonic() - child.started_at
        child.quick_deaths = 0 if lived > STABLE_AFTER_S else child.quick_deaths + 1
        delay = RESTART_DELAYS[min(child.quick_deaths, len(RESTART_DELAYS)) - 1] if child.quick_deaths else 0.0
        log.warning("%s exited with status %s after %.0f s; restarting it in %.1f s",
                    child.name, child.process.returncode, lived, delay)  # fmt: skip
        await asyncio.sleep(delay)
        child.restarts += 1
        await child.start(self.output)

    async def rolling_restart(self) -> None:
        """Each worker in turn: drain and stop it, start it again, wait until healthy; the others serve meanwhile."""
        for child in self.worker_children:
            log.info("restarting %s", child.name)
            await child.stop(signal.SIGTERM, DRAIN_TIMEOUT_S + 5)
            await child.start(self.output)
            await self.wait_healthy(child)

    async def stop(self) -> None:
        """Workers first (each finishes its updates in hand and answers them through the proxy), then the proxy."""
        workers, proxies = self.worker_children, [c for c in self.children if c not in self.worker_children]
        await asyncio.gather(*(c.stop(signal.SIGTERM, DRAIN_TIMEOUT_S + 5) for c in workers))
        # SIGUSR1: HAProxy's soft stop, which lets connections still open finish.
        await asyncio.gather(*(c.stop(signal.SIGUSR1, 5.0) for c in proxies))


async def _wait_listening(host: str, port: int, child: Child, timeout: float = 10.0) -> None:
    """Until ``host:port`` accepts connections; RuntimeError when ``child`` exits first or it takes too long."""
    assert child.process is not None
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if child.process.returncode is not None:
            raise RuntimeError(f"{child.name} exited with status {child.process.returncode} while starting")
        with contextlib.suppress(OSError):
            _, writer = await asyncio.open_connection(host, port)
            writer.close()
            return
        await asyncio.sleep(0.1)
    raise RuntimeError(f"{child.name} did not listen on {host}:{port} within {timeout:.0f} s")


def cluster_env(values: Mapping[str, str], database_url: str | None) -> dict[str, str]:
    """The workers' environment: the bot's settings, a database they all share, one secret for all of them."""
    env = dict(values)  # read_env: the real environment over .env
    if database_url:
        env["DATABASE_URL"] = database_url
    if not env.get("WEBHOOK_SECRET_TOKEN", "").strip():
        # Registered once below and shared by every worker; new at each cluster start, never printed.
        env["WEBHOOK_SECRET_TOKEN"] = secrets.token_urlsafe(WEBHOOK_SECRET_BYTES)
    return env


def _problems(env: Mapping[str, str]) -> list[str]:
    return [
        f"{name} is needed ({why})"
        for name, why in (
            ("TELEGRAM_BOT_TOKEN", "the workers talk to Telegram"),
            ("WEBHOOK_URL", "the public https:// address of the proxy"),
        )  # fmt: skip
        if not env.get(name, "").strip()
    ]


async def run(args: argparse.Namespace) -> int:
    values = read_env()  # the real environment over .env, as the workers will read it
    problems = _problems(values)
    if problems:
        print("deploy.cluster: " + "; ".join(problems), file=sys.stderr)
        return 2
    try:
        postgres = LocalPostgres(args.postgres_dir).start() if args.postgres_dir else None
    except (RuntimeError, OSError, subprocess.CalledProcessError) as exc:
        print(f"deploy.cluster: no local PostgreSQL: {exc}", file=sys.stderr)
        return 1
    cluster = Cluster(
        cluster_env(values, postgres.url if postgres else None),
        workers=args.workers,
        port=args.port,
        bind=args.bind,
        worker_ports=[args.first_worker_port + i for i in range(args.workers)],
        tls_pem=args.tls_pem,
    )
    stop, reload = asyncio.Event(), asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    loop.add_signal_handler(signal.SIGHUP, reload.set)
    try:
        await cluster.start()
        await cluster.supervise(stop, reload)
        return 0
    except (RuntimeError, ValueError) as exc:  # a worker that never got healthy, a config haproxy refused
        log.error("the cluster stopped: %s", exc)
        return 1
    finally:
        log.info("stopping: the workers finish the updates in hand")
        await cluster.stop()
        if postgres is not None:
            postgres.stop()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m deploy.cluster", description=__doc__.split("\n\n")[0])
    parser.add_argument("--workers", type=int, default=2, help="bot processes (default 2)")
    parser.add_argument("--port", type=int, default=8443, help="the proxy's port (Telegram: 443, 80, 88 or 8443)")
    parser.add_argument("--bind", default="0.0.0.0", help="the proxy's address (default 0.0.0.0)")
    parser.add_argument(
        "--first-worker-port",
        type=int,
        default=FIRST_WORKER_PORT,
        help=f"worker i listens on 127.0.0.1 at this port + i - 1 (default {FIRST_WORKER_PORT})",
    )
    parser.add_argument("--postgres-dir", type=Path, help="start a local PostgreSQL cluster in this folder")
    parser.add_argument("--tls-pem", type=Path, help="certificate + key (PEM): the proxy serves https")
    args = parser.parse_args(argv)
    if args.workers < 1:
        parser.error("--workers must be at least 1")
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(levelname)s %(message)s")
    return asyncio.run(run(args))


if __name__ == "__main__":
    sys.exit(main())
