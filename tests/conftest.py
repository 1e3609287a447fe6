"""Shared fixtures: the shared data folder, real photos, and one Analyzer for the session."""

from __future__ import annotations

from pathlib import Path

import pytest

from fer_engine.datasets import data_dir

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
