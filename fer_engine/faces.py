"""Face detection with OpenCV's Haar cascades (shipped inside opencv-python 4.x).

Why this detector: see README "Face detector" and ``benchmarks/compare_detectors.py``.
Large photos are downscaled for detection and the boxes mapped back to original pixels.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass

import cv2
import numpy as np

#: Detection runs on a copy whose longer side is at most this many pixels.
DETECT_MAX_SIDE = 400
#: The cascade file inside ``cv2.data.haarcascades``.
DEFAULT_CASCADE = "haarcascade_frontalface_alt2.xml"


@dataclass(frozen=True)
class Box:
    """A face box in original image pixels."""

    x: int
    y: int
    w: int
    h: int

    @property
    def area(self) -> int:
        return self.w * self.h

    def as_tuple(self) -> tuple[int, int, int, int]:
        return (self.x, self.y, self.w, self.h)


@dataclass(frozen=True)
class DetectorSettings:
    cascade: str = DEFAULT_CASCADE
    scale_factor: float = 1.15
    min_neighbors: int = 5
    #: Smallest face, as a fraction of the detection image's shorter side.
    min_face_fraction: float = 0.06
    max_side: int = DETECT_MAX_SIDE


_per_thread = threading.local()


def _cascade(name: str) -> cv2.CascadeClassifier:
    """This thread's copy of the cascade: ``detectMultiScale`` on one shared object is not thread-safe."""
    cascades = _per_thread.__dict__.setdefault("cascades", {})
    if name not in cascades:
        classifier = cv2.CascadeClassifier(cv2.data.haarcascades + name)
        if classifier.empty():
            raise RuntimeError(f"OpenCV could not load the cascade {name!r}; is opencv-python 4.x installed?")
        cascades[name] = classifier
    return cascades[name]


def to_grey(image: np.ndarray) -> np.ndarray:
    """BGR or grey uint8 -> grey uint8."""
    return image if image.ndim == 2 else cv2.cvtColor(image, cv2.COLOR_BGR2GRAY)


def detect_faces(image: np.ndarray, settings: DetectorSettings = DetectorSettings()) -> list[Box]:
    """Every face in a BGR or grey image, largest first, as boxes in the image's own pixels."""
    grey = to_grey(image)
    height, width = grey.shape
    scale = min(1.0, settings.max_side / max(height, width))
    small = cv2.resize(grey, (round(width * scale), round(height * scale)), interpolation=cv2.INTER_AREA)
    small = cv2.equalizeHist(small)
    min_side = max(20, int(min(small.shape) * settings.min_face_fraction))
    found = _cascade(settings.cascade).detectMultiScale(
        small,
        scaleFactor=settings.scale_factor,
        minNeighbors=settings.min_neighbors,
        minSize=(min_side, min_side),
    )
    boxes = [_scale_box(b, scale, width, height) for b in (found if len(found) else [])]
    return sorted(_drop_nested(boxes), key=lambda b: b.area, reverse=True)


def _scale_box(box, scale: float, width: int, height: int) -> Box:
    x, y, w, h = (float(v) / scale for v in box)
    x0, y0 = max(0, round(x)), max(0, round(y))
    return Box(x0, y0, min(width, round(x + w)) - x0, min(height, round(y + h)) - y0)


def _drop_nested(boxes: list[Box]) -> list[Box]:
    """Drop a box mostly inside a larger one (a cascade can fire on a face and on part of it)."""
    kept: list[Box] = []
    for box in sorted(boxes, key=lambda b: b.area, reverse=True):
        if all(_overlap(box, big) < 0.6 * box.area for big in kept):
            kept.append(box)
    return kept


def _overlap(a: Box, b: Box) -> int:
    w = min(a.x + a.w, b.x + b.w) - max(a.x, b.x)
    h = min(a.y + a.h, b.y + b.h) - max(a.y, b.y)
    return max(0, w) * max(0, h)
