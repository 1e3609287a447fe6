"""The HAProxy config for N webhook workers: rendered from ``haproxy.cfg.template``, checked by ``haproxy -c``."""

from __future__ import annotations

import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path
from string import Template

from bot.app import CONCURRENT_UPDATES

TEMPLATE = Path(__file__).with_name("haproxy.cfg.template")
#: Where Debian installs it (not on PATH for every user).
DEBIAN_BINARY = Path("/usr/sbin/haproxy")


@dataclass(frozen=True)
class ProxyConfig:
    """What the proxy needs: where it listens, the webhook path it passes on, and the workers' addresses."""

    port: int
    path: str
    workers: tuple[tuple[str, int], ...]
    bind: str = "0.0.0.0"
    #: PEM with the certificate and key: TLS ends at the proxy (Telegram posts only to https://).
    tls_pem: Path | None = None

    def render(self) -> str:
        lines = (f"    server worker{i} {host}:{port} check" for i, (host, port) in enumerate(self.workers, 1))
        servers = "\n".join(lines)
        return Template(TEMPLATE.read_text()).substitute(
            bind=self.bind,
            port=self.port,
            tls=f" ssl crt {self.tls_pem}" if self.tls_pem else "",
            path="/" + self.path.lstrip("/"),
            # Each worker handles this many updates at once; more wait in the proxy's queue, not in the worker.
            worker_maxconn=CONCURRENT_UPDATES,
            servers=servers,
        )


def binary() -> str | None:
    """The haproxy executable, or None when it is not installed."""
    found = shutil.which("haproxy")
    return found or (str(DEBIAN_BINARY) if DEBIAN_BINARY.exists() else None)


def check(config_file: Path) -> None:
    """``haproxy -c``: raise ValueError with haproxy's own words when the file is not a valid config."""
    executable = binary()
    if executable is None:
        raise RuntimeError("HAProxy is not installed (Debian: apt-get install haproxy)")
    result = subprocess.run([executable, "-c", "-q", "-f", str(config_file)], capture_output=True, text=True)
    if result.returncode:
        raise ValueError(f"invalid HAProxy config {config_file}: {(result.stderr or result.stdout).strip()}")
