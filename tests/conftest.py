"""Shared fixtures: the shared data folder, one Analyzer for the session, the local Bot API server, and the
databases (a SQLite file, and a database on a throwaway PostgreSQL server started once per session)."""

from __future__ import annotations

import itertools
from collections.abc import AsyncIterator
from pathlib import Path

import aiohttp
import pytest

from deploy import local_postgres
from fer_engine.datasets import data_dir
from sandbox import RunningServer, start_server
from storage import Store, open_store

DATA = data_dir()
PHOTOS = DATA / "photos"
FER = DATA / "fer2013"


def _require(path: Path) -> Path:
    if not path.exists():
        pytest.skip(f"shared data missing: {path} (see README, 'Data')")
    return path


@pytest.fixture(scope="session")
def photos_dir() -> Path:
    return _require(PHOTOS)


@pytest.fixture(scope="session")
def val_npz() -> Path:
    return _require(FER / "val.npz")


@pytest.fixture(scope="session")
def train_npz() -> Path:
    return _require(FER / "train.npz")


@pytest.fixture(scope="session")
def analyzer():
    from fer_engine import Analyzer

    return Analyzer()


@pytest.fixture(autouse=True)
def _no_proxy(monkeypatch: pytest.MonkeyPatch) -> None:
    # httpx (inside PTB) honours HTTP(S)_PROXY; traffic to the local sandbox must stay on the loopback.
    monkeypatch.setenv("NO_PROXY", "127.0.0.1,localhost")
    monkeypatch.setenv("no_proxy", "127.0.0.1,localhost")


@pytest.fixture
def sandbox_options() -> dict:
    """Keyword arguments for the sandbox server; a test module overrides this fixture to change them."""
    return {}


@pytest.fixture
async def server(sandbox_options: dict) -> AsyncIterator[RunningServer]:
    srv = await start_server("127.0.0.1", 0, **sandbox_options)
    yield srv
    await srv.stop()


@pytest.fixture
async def http(server: RunningServer) -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession(base_url=server.url) as session:
        yield session


@pytest.fixture
async def bot(server: RunningServer, database: str, analyzer) -> AsyncIterator:
    """The real MoodLens Application polling the sandbox, on a fresh database of each backend (test_bot_e2e.Bot)."""
    from test_bot_e2e import running_bot

    async with running_bot(server, database, analyzer) as running:
        yield running


#: The storage backends every store and end-to-end test runs on.
BACKENDS = ("sqlite", "postgresql")
_database_numbers = itertools.count(1)


@pytest.fixture(scope="session")
def postgres_server(tmp_path_factory: pytest.TempPathFactory):
    """One PostgreSQL cluster for the session (Debian's server, installed by ``tasks.py test``)."""
    if not local_postgres.available():
        pytest.skip("PostgreSQL server binaries not found (Debian package postgresql; tasks.py test installs it)")
    with local_postgres.LocalPostgres(tmp_path_factory.mktemp("postgres")) as server:
        yield server


def new_database(request: pytest.FixtureRequest, backend: str, folder: Path) -> str:
    """A fresh, empty database on ``backend``: a SQLite file in ``folder``, or a new PostgreSQL database."""
    if backend == "sqlite":
        return str(folder / f"moodlens-{next(_database_numbers)}.db")
    server = request.getfixturevalue("postgres_server")
    return server.create_database(f"moodlens_{next(_database_numbers)}")


@pytest.fixture(params=BACKENDS)
def database(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """What ``open_store`` opens, once per backend: a SQLite path or a ``postgresql://`` URL to an empty database."""
    return new_database(request, request.param, tmp_path)


@pytest.fixture
async def stores(database: str) -> AsyncIterator[tuple[Store, Store]]:
    """Two workers' stores on one database (each backend): for races between processes."""
    a = await open_store(database)
    b = await open_store(database)
    yield a, b
    await a.close()
    await b.close()
