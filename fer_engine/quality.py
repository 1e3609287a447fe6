"""Is a face crop good enough to judge?  Thresholds sit below what FER2013's own crops show."""

from __future__ import annotations

import cv2
import numpy as np

from fer_engine.faces import Box

#: Faces smaller than this (pixels, shorter side, in the original image) are too small to read.
MIN_FACE_SIDE = 24
#: Mean grey level (0..255) of the 48x48 crop below which it is too dark; FER2013's 0.5th percentile is 46.
MIN_MEAN_BRIGHTNESS = 35.0
#: Variance of the Laplacian of the 48x48 crop below which it is too blurred; FER2013's 0.5th
#: percentile is 316, a Gaussian blur of sigma 1.7 brings a typical crop to about 35.
MIN_SHARPNESS = 60.0

TOO_SMALL, TOO_DARK, TOO_BLURRED = "too_small", "too_dark", "too_blurred"
#: What each verdict means, for people.
QUALITY_MESSAGES = {
    TOO_SMALL: "the face is too small in the picture to read its expression",
    TOO_DARK: "the face is too dark to read its expression",
    TOO_BLURRED: "the face is too blurred to read its expression",
}


def assess(box: Box, crop: np.ndarray) -> str | None:
    """None when the face can be judged, else one of TOO_SMALL, TOO_DARK, TOO_BLURRED."""
    if min(box.w, box.h) < MIN_FACE_SIDE:
        return TOO_SMALL
    if float(crop.mean()) < MIN_MEAN_BRIGHTNESS:
        return TOO_DARK
    if float(cv2.Laplacian(crop, cv2.CV_64F).var()) < MIN_SHARPNESS:
        return TOO_BLURRED
    return None
