"""Turning a detected face into the CNN's input: a square grey crop, resized to 48x48.

With landmarks the crop is aligned: turned so the eyes are level, and framed from the eyes and
mouth the way FER2013's crops frame a face (the constants come from ``benchmarks/crop_geometry.py``,
which fits them on FER2013 training crops).  Without landmarks (the Haar fallback) the
detector's box is squared and padded by a margin.
"""

from __future__ import annotations

import cv2
import numpy as np

from fer_engine.faces import Box, to_grey
from fer_engine.shrink import shrink_by

#: The CNN's input side in pixels (the model is trained on 48x48 grey faces).
INPUT_SIZE = 48

#: Extra border around the detector's box, as a fraction of its side, so the crop frames the
#: face the way FER2013's crops do (brows to chin).
CROP_MARGIN = 0.05


#: Aligned crop side as a multiple of the distance between the eyes, and of the distance from the
#: eyes' midpoint to the mouth's; the two estimates are averaged, so a turned or nodding head
#: (which shortens one of them) changes the frame only half as much.  Centre of the crop below
#: the midpoint of eyes and mouth, as a share of the side (negative: above).  Fitted on 1,500
#: FER2013 training crops by ``python benchmarks/crop_geometry.py --images 1500``.
SIDE_PER_EYE_DISTANCE = 2.807
SIDE_PER_EYE_MOUTH = 2.770
CENTRE_BELOW_MIDPOINT = -0.070
#: Half the diagonal of a square of side 1: how far from its centre a turned crop can sample.
REACH = 0.7072


def face_crop(image: np.ndarray, box: Box, size: int = INPUT_SIZE) -> np.ndarray:
    """The CNN's input for one detected face: aligned where the box has landmarks, else ``crop_face``."""
    if box.landmarks is None:
        return crop_face(image, box, size)
    return aligned_crop(image, np.asarray(box.landmarks, np.float64), size)


def aligned_crop(
    image: np.ndarray,
    landmarks: np.ndarray,
    size: int = INPUT_SIZE,
    geometry: tuple[float, float, float] = (SIDE_PER_EYE_DISTANCE, SIDE_PER_EYE_MOUTH, CENTRE_BELOW_MIDPOINT),
) -> np.ndarray:
    """A (size, size) grey crop with the eyes level, framed from five landmarks (see ``Box``)."""
    per_eyes, per_eye_mouth, below = geometry
    left_eye, right_eye, mouth = landmarks[0], landmarks[1], (landmarks[3] + landmarks[4]) / 2
    eyes = (left_eye + right_eye) / 2
    eye_distance = max(float(np.linalg.norm(right_eye - left_eye)), 1e-3)
    side = max((per_eyes * eye_distance + per_eye_mouth * float(np.linalg.norm(mouth - eyes))) / 2, 8.0)
    across = (right_eye - left_eye) / eye_distance  # the face's own x axis
    down = np.array([-across[1], across[0]])  # and its y axis, pointing to the chin
    centre = (eyes + mouth) / 2 + below * side * down

    # Only the part of the photo the crop can reach is made grey and shrunk: on a 1280x960 selfie
    # the whole crop takes 0.6 ms instead of 1.9 ms.
    grey, offset = _reach(image, centre, side)
    centre = centre - offset
    # Shrink first when the face is much larger than the output: a warp alone would alias.
    if 2.0 * size < side:
        small = shrink_by(grey, 2.0 * size / side)
        factor = small.shape[1] / grey.shape[1]
        grey, centre, side = small, centre * factor, side * factor
    step = side / size  # source pixels per output pixel
    origin = centre - (across + down) * step * (size - 1) / 2
    # Output (u, v) -> source origin + u * step * across + v * step * down.
    inverse = np.array([[across[0] * step, down[0] * step, origin[0]], [across[1] * step, down[1] * step, origin[1]]])
    return cv2.warpAffine(
        grey, inverse, (size, size), flags=cv2.INTER_LINEAR | cv2.WARP_INVERSE_MAP, borderMode=cv2.BORDER_REPLICATE
    )


def _reach(image: np.ndarray, centre: np.ndarray, side: float) -> tuple[np.ndarray, np.ndarray]:
    """The grey part of ``image`` that a square of ``side`` around ``centre``, turned by any angle,
    can sample, and its top-left corner in photo pixels.  Where it runs past the photo, the edge
    is repeated (as if the photo went on), before any shrinking, as the whole-photo warp would."""
    height, width = image.shape[:2]
    reach = side * REACH + 2  # half the square's diagonal, and a pixel for interpolation
    x0, y0 = int(np.floor(centre[0] - reach)), int(np.floor(centre[1] - reach))
    x1, y1 = int(np.ceil(centre[0] + reach)) + 1, int(np.ceil(centre[1] + reach)) + 1
    # Keep at least one photo pixel, so a face centred off the photo still repeats its nearest edge.
    cx0, cy0 = min(max(x0, 0), width - 1), min(max(y0, 0), height - 1)
    cx1, cy1 = max(min(x1, width), cx0 + 1), max(min(y1, height), cy0 + 1)
    grey = to_grey(image[cy0:cy1, cx0:cx1])
    borders = (cy0 - y0, y1 - cy1, cx0 - x0, x1 - cx1)
    if any(b > 0 for b in borders):
        grey = cv2.copyMakeBorder(grey, *(max(0, b) for b in borders), cv2.BORDER_REPLICATE)
        x0, y0 = min(x0, cx0), min(y0, cy0)
    return grey, np.array([x0, y0], np.float64)


def crop_face(image: np.ndarray, box: Box, size: int = INPUT_SIZE, margin: float = CROP_MARGIN) -> np.ndarray:
    """A (size, size) uint8 grey crop of ``box``, squared and padded by edge replication if needed."""
    side = max(box.w, box.h) * (1 + 2 * margin)
    cx, cy = box.x + box.w / 2, box.y + box.h / 2
    x0, y0 = round(cx - side / 2), round(cy - side / 2)
    x1, y1 = x0 + round(side), y0 + round(side)
    height, width = image.shape[:2]
    crop = to_grey(image[max(0, y0) : min(height, y1), max(0, x0) : min(width, x1)])
    top, left, bottom, right = max(0, -y0), max(0, -x0), max(0, y1 - height), max(0, x1 - width)
    if top or left or bottom or right:
        crop = cv2.copyMakeBorder(crop, top, bottom, left, right, cv2.BORDER_REPLICATE)
    interpolation = cv2.INTER_AREA if crop.shape[0] > size else cv2.INTER_LINEAR
    return cv2.resize(crop, (size, size), interpolation=interpolation)


def resize_crops(crops: np.ndarray, size: int = INPUT_SIZE) -> np.ndarray:
    """(N, H, W) uint8 crops of any square-ish size -> (N, size, size) uint8."""
    if crops.shape[1:] == (size, size):
        return crops
    interpolation = cv2.INTER_AREA if crops.shape[1] > size else cv2.INTER_LINEAR
    return np.stack([cv2.resize(c, (size, size), interpolation=interpolation) for c in crops])
