"""OpenCV's Haar cascade (shipped inside opencv-python 4.x): the fallback where the CNN detector is missing.

It finds frontal, upright, uncut faces well and is fast, but misses close-ups cut by the frame,
heads tilted past about 15 degrees and hands over the mouth, and gives no landmarks (so no alignment).
"""

from __future__ import annotations

import threading

import cv2
import numpy as np

#: The cascade file inside ``cv2.data.haarcascades`` (compared in ``benchmarks/compare_detectors.py``).
CASCADE = "haarcascade_frontalface_alt2.xml"
SCALE_FACTOR = 1.15
MIN_NEIGHBORS = 5
#: Detection image size and smallest face (share of its shorter side) this back-end works best at.
MAX_SIDE = 400
MIN_FACE_FRACTION = 0.06

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


def detect(grey: np.ndarray, cascade: str = CASCADE, min_neighbors: int = MIN_NEIGHBORS) -> list[tuple]:
    """Boxes (x, y, w, h, score, landmarks=None) in ``grey``'s pixels."""
    equalised = cv2.equalizeHist(grey)
    min_side = max(20, int(min(grey.shape) * MIN_FACE_FRACTION))
    found = _cascade(cascade).detectMultiScale(
        equalised, scaleFactor=SCALE_FACTOR, minNeighbors=min_neighbors, minSize=(min_side, min_side)
    )
    return [(*map(float, box), 1.0, None) for box in (found if len(found) else [])]
