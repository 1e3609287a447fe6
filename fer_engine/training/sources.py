"""Training faces from a second source (AffectNet), made to look like FER2013 crops.

AffectNet's faces (see ``../shared/data/affectnet/README.md``) are aligned, a little closer than
FER2013's, and everything outside the face outline is black.  A network trained on both would
learn "black frame = AffectNet label habits", and at serving time a detector crop always has a
background.  So each AffectNet face is shrunk to FER2013's framing and its black surround is
replaced by the surround of a random FER2013 training face (hair, background, shoulders), with a
feathered seam.  Its single-annotator label is softened, because it is noisier than FER+'s ten votes.
"""

from __future__ import annotations

import cv2
import numpy as np

from fer_engine.datasets import FaceSet
from fer_engine.labels import NUM_CLASSES
from fer_engine.preprocess import INPUT_SIZE, resize_crops

#: Pixels at or below this (after a light blur) that touch the border are the black surround.
SURROUND_LEVEL = 12
#: The AffectNet face is shrunk to this share of the frame: FER2013 shows a little more around the face.
FACE_SCALE = 0.9
#: Blur of the borrowed surround, so the other face's eyes and mouth do not compete with this one's.
SURROUND_BLUR_SIGMA = 1.5
#: Width of the feathered seam between face and borrowed surround, in pixels of the 64-px source.
FEATHER = 5


def surround_mask(face: np.ndarray) -> np.ndarray:
    """1.0 on the face, 0.0 on the black surround (dark regions connected to the border), feathered."""
    dark = (cv2.GaussianBlur(face, (3, 3), 0) <= SURROUND_LEVEL).astype(np.uint8)
    count, labels = cv2.connectedComponents(dark, connectivity=4)
    border = np.unique(np.concatenate([labels[0], labels[-1], labels[:, 0], labels[:, -1]]))
    outside = np.isin(labels, border[border > 0]) & (dark > 0)
    mask = (~outside).astype(np.float32)
    return cv2.GaussianBlur(mask, (FEATHER | 1, FEATHER | 1), 0)


def blend_into_background(face: np.ndarray, background: np.ndarray, scale: float = FACE_SCALE) -> np.ndarray:
    """Paste the face (its surround removed) shrunk by ``scale`` onto ``background``; same size as ``face``."""
    side = face.shape[0]
    inner = round(side * scale)
    offset = (side - inner) // 2
    canvas = cv2.resize(background, (side, side), interpolation=cv2.INTER_LINEAR)
    canvas = cv2.GaussianBlur(canvas, (0, 0), SURROUND_BLUR_SIGMA).astype(np.float32)
    small_face = cv2.resize(face, (inner, inner), interpolation=cv2.INTER_AREA).astype(np.float32)
    small_mask = cv2.resize(surround_mask(face), (inner, inner), interpolation=cv2.INTER_AREA)
    window = canvas[offset : offset + inner, offset : offset + inner]
    canvas[offset : offset + inner, offset : offset + inner] = small_mask * small_face + (1 - small_mask) * window
    return np.clip(canvas.round(), 0, 255).astype(np.uint8)


def load_affectnet(path: str, backgrounds: np.ndarray, seed: int, smoothing: float, limit: int | None = None):
    """AffectNet faces blended onto FER2013 surrounds, at the CNN's size, with softened one-hot targets.

    Returns ``(FaceSet, targets)``.  Images marked ``in_fer2013`` (near-copies of FER2013 images)
    are skipped: FER2013's copy, with its ten FER+ votes, is the better-labelled one.
    """
    with np.load(path, allow_pickle=False) as data:
        x, y = data["x"], data["y"].astype(np.int64)
        keep = ~data["in_fer2013"] if "in_fer2013" in data.files else np.ones(len(y), bool)
    x, y = x[keep], y[keep]
    if limit and limit < len(y):
        index = np.linspace(0, len(y) - 1, limit).astype(np.int64)
        x, y = x[index], y[index]
    rng = np.random.default_rng(seed)
    picks = rng.integers(0, len(backgrounds), len(x))
    blended = np.stack([blend_into_background(face, backgrounds[i]) for face, i in zip(x, picks, strict=True)])
    targets = (1 - smoothing) * np.eye(NUM_CLASSES, dtype=np.float32)[y] + smoothing / NUM_CLASSES
    return FaceSet(resize_crops(blended, INPUT_SIZE), y), targets.astype(np.float32)
