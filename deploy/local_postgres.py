"""A throwaway PostgreSQL cluster in a folder, from Debian's ``postgresql`` package: for tests, benchmarks and
``deploy/cluster.py`` on one machine.  Listens on 127.0.0.1 only, trusts local connections, and is gone with
its folder.  PostgreSQL refuses to run as root, so as root the server runs as the ``postgres`` system user
(which the Debian package creates).

    with LocalPostgres(tmp_dir) as pg:
        url = pg.url          # postgresql://moodlens@127.0.0.1:<port>/moodlens
"""

from __future__ import annotations

import contextlib
import glob
import os
import shutil
import socket
import subprocess
import time
from pathlib import Path
from types import TracebackType

#: Where Debian puts the server binaries (one folder per major version); PG_BIN overrides.
DEBIAN_BIN_GLOB = "/usr/lib/postgresql/*/bin"
USER = "moodlens"
DATABASE = "moodlens"
START_TIMEOUT_S = 30.0
#: Durability stays on (fsync): the tests check what survives a SIGKILL of a worker, not of the server,
#: but a benchmark should measure the commit cost a real deployment pays.
SERVER_OPTIONS = ("-c", "listen_addresses=127.0.0.1", "-c", "unix_socket_directories=", "-c", "max_connections=200")


def server_bin() -> Path | None:
    """The folder with ``initdb`` and ``pg_ctl``: PG_BIN, else the newest Debian install; None when absent."""
    if explicit := os.environ.get("PG_BIN"):
        return Path(explicit) if (Path(explicit) / "initdb").exists() else None

    def major(folder: str) -> int:
        name = Path(folder).parent.name
        return int(name) if name.isdigit() else 0

    found = sorted(glob.glob(DEBIAN_BIN_GLOB), key=major)
    return Path(found[-1]) if found and (Path(found[-1]) / "initdb").exists() else None


def available() -> bool:
    """Whether a PostgreSQL server can be started here."""
    return server_bin() is not None


def free_port() -> int:
    with contextlib.closing(socket.socket(socket.AF_INET, socket.SOCK_STREAM)) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class LocalPostgres:
    """One cluster in ``folder`` (created if new, reused if it holds one): start, ``url``, stop."""

    def __init__(self, folder: str | Path, port: int | None = None) -> None:
        self.folder = Path(folder).resolve()
        self.data = self.folder / "pgdata"
        self.port = port or free_port()
        bin_dir = server_bin()
        if bin_dir is None:
            raise RuntimeError("PostgreSQL is not installed (Debian: apt-get install postgresql)")
        self._bin = bin_dir
        self._as_postgres = os.geteuid() == 0

    @property
    def url(self) -> str:
        return f"postgresql://{USER}@127.0.0.1:{self.port}/{DATABASE}"

    def _run(self, *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
        command = [str(self._bin / args[0]), *args[1:]]
        if self._as_postgres:
            command = ["runuser", "-u", "postgres", "--", *command]
        return subprocess.run(command, check=check, capture_output=True, text=True, cwd="/")

    def start(self) -> LocalPostgres:
        self.folder.mkdir(parents=True, exist_ok=True)
        if self._as_postgres:
            shutil.chown(self.folder, "postgres", "postgres")
            # The folders above must be passable for the postgres user (a pytest tmp_path is 0700 root).
            for parent in self.folder.parents:
                if parent == Path("/"):
                    break
                mode = parent.stat().st_mode
                if not mode & 0o001:
                    os.chmod(parent, mode | 0o001)
        if not (self.data / "PG_VERSION").exists():
            self._run("initdb", "-D", str(self.data), "-U", USER, "--auth=trust", "-E", "UTF8", "--no-sync")
        options = " ".join(SERVER_OPTIONS + ("-p", str(self.port)))
        log = self.folder / "server.log"
        timeout = str(int(START_TIMEOUT_S))
        self._run("pg_ctl", "-D", str(self.data), "-l", str(log), "-o", options, "-w", "-t", timeout, "start")
        self._wait_ready()
        created = self._run("createdb", "-h", "127.0.0.1", "-p", str(self.port), "-U", USER, DATABASE, check=False)
        if created.returncode and "already exists" not in created.stderr:
            raise RuntimeError(f"createdb failed: {created.stderr.strip()}")
        return self

    def _wait_ready(self) -> None:
        deadline = time.monotonic() + START_TIMEOUT_S
        while time.monotonic() < deadline:
            if self._run("pg_isready", "-h", "127.0.0.1", "-p", str(self.port), check=False).returncode == 0:
                return
            time.sleep(0.1)
        raise RuntimeError(f"PostgreSQL did not accept connections on port {self.port} within {START_TIMEOUT_S:.0f} s")

    def create_database(self, name: str) -> str:
        """A fresh, empty database in this cluster (one per test keeps tests apart); returns its URL."""
        self._run("createdb", "-h", "127.0.0.1", "-p", str(self.port), "-U", USER, name)
        return f"postgresql://{USER}@127.0.0.1:{self.port}/{name}"

    def stop(self) -> None:
        self._run("pg_ctl", "-D", str(self.data), "-m", "fast", "-w", "stop", check=False)

    def __enter__(self) -> LocalPostgres:
        return self.start()

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()
