"""Loading labelled face crops (the FER2013 npz layout) for training and evaluation."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np

#: Where the shared data lives unless FER_DATA_DIR says otherwise: ``../shared/data`` beside the checkout.
DEFAULT_DATA_DIR = Path(__file__).resolve().parents[1].parent / "shared" / "data"


def data_dir() -> Path:
    return Path(os.environ.get("FER_DATA_DIR", DEFAULT_DATA_DIR))


#: The development sets (``dev/README.md``): name -> whether each image is already a face crop
#: (film stills) rather than a photo the detector must search.  For choosing models and the
#: decision rule only, never for training.
DEV_SETS: dict[str, bool] = {"posed_tw": False, "sfew_train": True}


def dev_sets() -> tuple[tuple[str, bool], ...]:
    """(folder, images are face crops) for each development set."""
    return tuple((str(data_dir() / "dev" / name), crops) for name, crops in DEV_SETS.items())


@dataclass(frozen=True)
class FaceSet:
    """Grey face crops with their labels: ``x`` (N, H, W) uint8, ``y`` (N,), optional FER+ ``votes``."""

    x: np.ndarray
    y: np.ndarray
    votes: np.ndarray | None = None

    def __len__(self) -> int:
        return len(self.y)

    def subset(self, index: np.ndarray | slice) -> FaceSet:
        return FaceSet(self.x[index], self.y[index], None if self.votes is None else self.votes[index])


def load_npz(path: str | Path, limit: int | None = None) -> FaceSet:
    """Read an npz with ``x`` (N, H, W[, 1]) and ``y`` (N,), plus FER+ ``votes`` when present.

    ``limit`` keeps that many images spread evenly over the file (files may be sorted by class).
    """
    with np.load(path, allow_pickle=False) as data:
        missing = {"x", "y"} - set(data.files)
        if missing:
            raise ValueError(f"{path}: missing array(s) {sorted(missing)}; expected 'x' and 'y'")
        x = data["x"]
        y = data["y"].astype(np.int64)
        votes = data["votes"] if "votes" in data.files else None
    if x.ndim == 4 and x.shape[-1] == 1:
        x = x[..., 0]
    elif x.ndim == 4 and x.shape[-1] == 3:  # colour crops (RGB): ITU-R 601 luma, as OpenCV's grey
        x = x.astype(np.float32) @ np.array([0.299, 0.587, 0.114], np.float32)
    if x.ndim != 3 or len(x) != len(y):
        raise ValueError(f"{path}: 'x' must be (N, H, W) grey images matching 'y', got {x.shape} and {y.shape}")
    if x.dtype != np.uint8:  # floats in [0, 1] or [0, 255], or wider integers
        x = np.clip(x * 255.0 if x.max() <= 1.0 else x, 0, 255).round().astype(np.uint8)
    face_set = FaceSet(x, y, votes)
    if limit and limit < len(face_set):
        return face_set.subset(np.linspace(0, len(face_set) - 1, limit).astype(np.int64))
    return face_set
