"""Turning a face box into the CNN's input: a square grey crop, resized to 48x48."""

from __future__ import annotations

import cv2
import numpy as np

from fer_engine.faces import Box, to_grey
from fer_engine.model import INPUT_SIZE

#: Extra border around the detector's box, as a fraction of its side, so the crop frames the
#: face the way FER2013's crops do (brows to chin).
CROP_MARGIN = 0.05


def crop_face(image: np.ndarray, box: Box, size: int = INPUT_SIZE, margin: float = CROP_MARGIN) -> np.ndarray:
    """A (size, size) uint8 grey crop of ``box``, squared and padded by edge replication if needed."""
    grey = to_grey(image)
    side = max(box.w, box.h) * (1 + 2 * margin)
    cx, cy = box.x + box.w / 2, box.y + box.h / 2
    x0, y0 = round(cx - side / 2), round(cy - side / 2)
    x1, y1 = x0 + round(side), y0 + round(side)
    height, width = grey.shape
    pad = max(0, -x0, -y0, x1 - width, y1 - height)
    if pad:
        grey = cv2.copyMakeBorder(grey, pad, pad, pad, pad, cv2.BORDER_REPLICATE)
        x0, y0, x1, y1 = x0 + pad, y0 + pad, x1 + pad, y1 + pad
    crop = grey[y0:y1, x0:x1]
    interpolation = cv2.INTER_AREA if crop.shape[0] > size else cv2.INTER_LINEAR
    return cv2.resize(crop, (size, size), interpolation=interpolation)


def resize_crops(crops: np.ndarray, size: int = INPUT_SIZE) -> np.ndarray:
    """(N, H, W) uint8 crops of any square-ish size -> (N, size, size) uint8."""
    if crops.shape[1:] == (size, size):
        return crops
    interpolation = cv2.INTER_AREA if crops.shape[1] > size else cv2.INTER_LINEAR
    return np.stack([cv2.resize(c, (size, size), interpolation=interpolation) for c in crops])
