"""Drawing results onto a copy of the image: numbered boxes, the top emotion and its share."""

from __future__ import annotations

import cv2
import numpy as np

from fer_engine.analyzer import Analysis

BOX_COLOUR = (60, 200, 60)  # BGR
UNJUDGED_COLOUR = (0, 170, 255)
TEXT_COLOUR = (255, 255, 255)


def annotate(image: np.ndarray, analysis: Analysis, numbered: bool = True) -> np.ndarray:
    """A BGR copy of ``image`` with each face boxed and labelled ("1 happy 62%")."""
    out = image.copy() if image.ndim == 3 else cv2.cvtColor(image, cv2.COLOR_GRAY2BGR)
    scale = max(out.shape[:2]) / 1000
    thickness = max(2, round(3 * scale))
    font_scale = max(0.5, 0.9 * scale)
    for number, face in enumerate(analysis.faces, start=1):
        b = face.box
        colour = BOX_COLOUR if face.judged else UNJUDGED_COLOUR
        cv2.rectangle(out, (b.x, b.y), (b.x + b.w, b.y + b.h), colour, thickness)
        if face.judged:
            emotion, share = face.top(1)[0]
            label = f"{emotion} {share:.0%}"
        else:
            label = (face.quality or "?").replace("_", " ")
        text = f"{number} {label}" if numbered else label
        (tw, th), base = cv2.getTextSize(text, cv2.FONT_HERSHEY_SIMPLEX, font_scale, thickness)
        top = max(0, b.y - th - base - 2 * thickness)
        cv2.rectangle(out, (b.x, top), (b.x + tw + 2 * thickness, top + th + base + 2 * thickness), colour, -1)
        org = (b.x + thickness, top + th + thickness)
        cv2.putText(out, text, org, cv2.FONT_HERSHEY_SIMPLEX, font_scale, TEXT_COLOUR, thickness, cv2.LINE_AA)
    return out


def encode_jpeg(image: np.ndarray, quality: int = 88) -> bytes:
    ok, buffer = cv2.imencode(".jpg", image, [cv2.IMWRITE_JPEG_QUALITY, quality])
    if not ok:
        raise ValueError("could not encode the image as JPEG")
    return buffer.tobytes()
