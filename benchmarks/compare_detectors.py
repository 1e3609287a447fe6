"""Compare OpenCV face-detector candidates on the real photos and on face-free images.

Usage: python benchmarks/compare_detectors.py [--photos DIR]
Prints, per candidate: faces found per photo against the expected count, false detections on
face-free images, and the median detection time.
"""

from __future__ import annotations

import argparse
import statistics
import time
from pathlib import Path

from fer_engine.datasets import data_dir
from fer_engine.faces import DetectorSettings, detect_faces
from fer_engine.image_io import read_image_file
from fer_engine.sample_images import textures

#: Clearly visible faces per photo, from ../shared/data/README.md.  obama_and_biden.jpg also has a
#: child looking down and a face cut by the edge: finding 2 to 4 faces there is right.
EXPECTED = {
    "32bit.png": (1, 1),
    "biden.jpg": (1, 1),
    "img1.jpg": (1, 1),
    "kit_with_rose.jpg": (2, 2),
    "lin-manuel-miranda.png": (1, 1),
    "obama-1080p.jpg": (1, 1),
    "obama.jpg": (1, 1),
    "obama_and_biden.jpg": (2, 4),
    "obama_partial_face.jpg": (0, 1),
    "two_people.jpg": (2, 2),
}

DEFAULT, ALT, ALT2 = (f"haarcascade_frontalface_{name}.xml" for name in ("default", "alt", "alt2"))
#: (cascade, neighbours, longer side the photo is shrunk to for detection)
VARIANTS = [
    (DEFAULT, 3, 640), (DEFAULT, 6, 640), (ALT, 5, 640), (ALT2, 3, 640), (ALT2, 5, 640),
    (DEFAULT, 3, 400), (DEFAULT, 6, 400), (ALT, 5, 400), (ALT2, 3, 400), (ALT2, 5, 400),
]  # fmt: skip
CHOSEN = DetectorSettings()
CANDIDATES = {
    f"{cascade[24:-4]}, neighbours {n}, {side} px"
    + (
        " (chosen)" if (cascade, n, side) == (CHOSEN.cascade, CHOSEN.min_neighbors, CHOSEN.max_side) else ""
    ):  # fmt: skip
    DetectorSettings(cascade=cascade, min_neighbors=n, max_side=side)
    for cascade, n, side in VARIANTS
}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--photos", type=Path, default=data_dir() / "photos")
    args = parser.parse_args()
    photos = {name: read_image_file(args.photos / name) for name in EXPECTED}
    blanks = textures()
    print(f"{'candidate':38} {'photos right':>12} {'missed':>6} {'extra':>5} {'false on no-face':>16} {'p50 ms':>7}")
    for label, settings in CANDIDATES.items():
        right = missed = extra = 0
        times = []
        for name, image in photos.items():
            started = time.perf_counter()
            found = len(detect_faces(image, settings))
            times.append((time.perf_counter() - started) * 1000)
            low, high = EXPECTED[name]
            right += low <= found <= high
            missed += max(0, low - found)
            extra += max(0, found - high)
        false = sum(len(detect_faces(image, settings)) for image in blanks.values())
        p50 = statistics.median(times)
        print(f"{label:38} {right:>7}/{len(photos):<4} {missed:>6} {extra:>5} {false:>16} {p50:>7.1f}")


if __name__ == "__main__":
    main()
