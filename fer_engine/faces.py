"""Finding faces: every face in a photo, largest first, in the photo's own pixels.

Two back-ends (``fer_engine/detectors``), chosen by ``benchmarks/compare_detectors.py``:
``yunet``, libfacedetection's CNN from the ``yuface`` wheel, with five landmarks per face, and
``haar``, OpenCV's cascade, the fallback where that wheel has no build (no landmarks, so no
alignment, and more missed close-ups and tilted heads).  Photos are shrunk for detection and
boxes mapped back.  When nothing is found, a second look pads the photo: a face cut by the
frame (a close selfie) becomes a whole face with a border the detector can see.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import cv2
import numpy as np

from fer_engine.detectors import haar, yunet
from fer_engine.shrink import shrink_by

YUNET, HAAR, AUTO = "yunet", "haar", "auto"
#: Border added on each side for the second look, as a share of the photo's longer side.
EDGE_PADDING = 0.25


@dataclass(frozen=True)
class Box:
    """A face box in original image pixels, with the detector's five landmarks where it gives them:
    the eye on the image's left, the other eye, nose tip, mouth corner on the left, on the right."""

    x: int
    y: int
    w: int
    h: int
    landmarks: tuple[tuple[float, float], ...] | None = field(default=None, compare=False)
    score: float = field(default=1.0, compare=False)

    @property
    def area(self) -> int:
        return self.w * self.h

    def as_tuple(self) -> tuple[int, int, int, int]:
        return (self.x, self.y, self.w, self.h)


@dataclass(frozen=True)
class DetectorSettings:
    #: ``yunet``, ``haar``, or ``auto`` (yunet where its wheel is installed, else haar).
    backend: str = AUTO
    #: Longer side of the detection copy; None takes the back-end's own (yunet 320, haar 400).
    max_side: int | None = None
    #: yunet: lowest confidence (0..1) kept.
    min_score: float = yunet.MIN_SCORE
    #: haar: cascade file and neighbours (see ``detectors/haar.py``).
    cascade: str = haar.CASCADE
    min_neighbors: int = haar.MIN_NEIGHBORS
    #: Second look with a padded border when the first finds nothing (0 turns it off).
    edge_padding: float = EDGE_PADDING


def resolve_backend(backend: str) -> str:
    """The back-end that will actually run for ``backend`` (``auto`` -> yunet or haar)."""
    if backend == AUTO:
        return YUNET if yunet.available() else HAAR
    if backend not in (YUNET, HAAR):
        raise ValueError(f"unknown face detector {backend!r}; use {YUNET!r}, {HAAR!r} or {AUTO!r}")
    if backend == YUNET and not yunet.available():
        raise RuntimeError("the yunet detector needs the yuface wheel (CPython 3.10/3.11, Linux x86_64 or Windows)")
    return backend


def to_grey(image: np.ndarray) -> np.ndarray:
    """BGR or grey uint8 -> grey uint8."""
    return image if image.ndim == 2 else cv2.cvtColor(image, cv2.COLOR_BGR2GRAY)


def to_bgr(image: np.ndarray) -> np.ndarray:
    return cv2.cvtColor(image, cv2.COLOR_GRAY2BGR) if image.ndim == 2 else image


def detect_faces(image: np.ndarray, settings: DetectorSettings = DetectorSettings()) -> list[Box]:
    """Every face in a BGR or grey image, largest first, as boxes in the image's own pixels."""
    backend = resolve_backend(settings.backend)
    height, width = image.shape[:2]
    max_side = settings.max_side or (yunet.MAX_SIDE if backend == YUNET else haar.MAX_SIDE)
    scale = min(1.0, max_side / max(height, width))
    small = shrink_by(image, scale)
    pad = 0
    found = _run(backend, small, settings)
    if not found and settings.edge_padding > 0:
        pad = round(settings.edge_padding * max(small.shape[:2]))
        padded = cv2.copyMakeBorder(small, pad, pad, pad, pad, cv2.BORDER_REPLICATE)
        found = _run(backend, padded, settings)
    boxes = [_to_original(c, scale, pad, width, height) for c in found]
    return sorted(_drop_nested([b for b in boxes if b.w > 0 and b.h > 0]), key=lambda b: b.area, reverse=True)


def _run(backend: str, image: np.ndarray, settings: DetectorSettings) -> list[tuple]:
    if backend == YUNET:
        return yunet.detect(to_bgr(image), settings.min_score)
    return haar.detect(to_grey(image), settings.cascade, settings.min_neighbors)


def _to_original(candidate: tuple, scale: float, pad: int, width: int, height: int) -> Box:
    """A detection in the (shrunk, maybe padded) copy -> a Box clipped to the original image."""
    x, y, w, h, score, points = candidate
    x, y, w, h = (x - pad) / scale, (y - pad) / scale, w / scale, h / scale
    x0, y0 = max(0, round(x)), max(0, round(y))
    landmarks = None if points is None else tuple(((px - pad) / scale, (py - pad) / scale) for px, py in points)
    return Box(x0, y0, min(width, round(x + w)) - x0, min(height, round(y + h)) - y0, landmarks, score)


def _drop_nested(boxes: list[Box]) -> list[Box]:
    """Drop a box mostly inside a larger one (a detector can fire on a face and on part of it)."""
    kept: list[Box] = []
    for box in sorted(boxes, key=lambda b: b.area, reverse=True):
        if all(_overlap(box, big) < 0.6 * box.area for big in kept):
            kept.append(box)
    return kept


def _overlap(a: Box, b: Box) -> int:
    w = min(a.x + a.w, b.x + b.w) - max(a.x, b.x)
    h = min(a.y + a.h, b.y + b.h) - max(a.y, b.y)
    return max(0, w) * max(0, h)
