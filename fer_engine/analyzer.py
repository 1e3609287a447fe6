"""The engine's front door: an image in, one result per face out."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from fer_engine.classifier import EmotionClassifier
from fer_engine.faces import Box, DetectorSettings, detect_faces
from fer_engine.image_io import decode_image, read_image_file
from fer_engine.labels import EMOTIONS
from fer_engine.preprocess import face_crop
from fer_engine.quality import QUALITY_MESSAGES, assess


@dataclass(frozen=True)
class FaceResult:
    """One face: its box, and either 7 probabilities (``EMOTIONS`` order) or why it was not judged."""

    box: Box
    probabilities: tuple[float, ...] | None
    quality: str | None = None  # None, or a key of QUALITY_MESSAGES

    @property
    def judged(self) -> bool:
        return self.probabilities is not None

    @property
    def emotion(self) -> str | None:
        return self.top(1)[0][0] if self.judged else None

    def top(self, k: int = 3) -> list[tuple[str, float]]:
        """The k most likely emotions with their shares, most likely first ([] if not judged)."""
        if self.probabilities is None:
            return []
        order = np.argsort(self.probabilities)[::-1][:k]
        return [(EMOTIONS[i], float(self.probabilities[i])) for i in order]

    @property
    def quality_message(self) -> str | None:
        return QUALITY_MESSAGES.get(self.quality) if self.quality else None

    def as_dict(self) -> dict:
        return {
            "box": list(self.box.as_tuple()),
            "quality": self.quality,
            "probabilities": self.probabilities and dict(zip(EMOTIONS, self.probabilities, strict=True)),
            "top": self.top(3),
        }


@dataclass(frozen=True)
class Analysis:
    """All faces of one image, largest first."""

    width: int
    height: int
    faces: list[FaceResult] = field(default_factory=list)

    @property
    def judged_faces(self) -> list[FaceResult]:
        return [f for f in self.faces if f.judged]

    def as_dict(self) -> dict:
        return {"width": self.width, "height": self.height, "faces": [f.as_dict() for f in self.faces]}


class Analyzer:
    """Face detection + emotion CNN.  Thread-safe; load once and share."""

    def __init__(
        self,
        model_dir: str | Path | None = None,
        *,
        flip: bool | None = None,
        detector: DetectorSettings | None = None,
        num_threads: int = 1,
        classifier: EmotionClassifier | None = None,
    ) -> None:
        self.classifier = classifier or EmotionClassifier(model_dir, num_threads=num_threads)
        #: Mirrored averaging: as the model's metadata says unless given.
        self.flip = self.classifier.mirrored if flip is None else flip
        self.detector = detector or DetectorSettings()

    def analyze_bytes(self, data: bytes) -> Analysis:
        """Decode (see ``decode_image`` for the errors it raises) and analyse."""
        return self.analyze_image(decode_image(data))

    def analyze_file(self, path: str | Path) -> Analysis:
        return self.analyze_image(read_image_file(path))

    def analyze_image(self, image: np.ndarray) -> Analysis:
        """Analyse an upright BGR (or grey) uint8 image."""
        boxes, crops = self.face_crops(image)
        verdicts = [assess(box, crop) for box, crop in zip(boxes, crops, strict=True)]
        judged = [i for i, verdict in enumerate(verdicts) if verdict is None]
        probs = self.classify_crops(np.stack([crops[i] for i in judged])) if judged else np.zeros((0, 7))
        by_face = dict(zip(judged, probs, strict=True))
        faces = [
            FaceResult(box, tuple(float(p) for p in by_face[i]) if i in by_face else None, verdicts[i])
            for i, box in enumerate(boxes)
        ]
        return Analysis(width=image.shape[1], height=image.shape[0], faces=faces)

    def face_crops(self, image: np.ndarray) -> tuple[list[Box], list[np.ndarray]]:
        """Every face's box (largest first) and its 48x48 grey crop, framed as the CNN was trained."""
        boxes = detect_faces(image, self.detector)
        return boxes, [face_crop(image, box) for box in boxes]

    def classify_crops(self, crops: np.ndarray) -> np.ndarray:
        """(N, 48, 48) uint8 grey crops -> (N, 7) probabilities, all in one batch."""
        return self.classifier.predict(crops, flip=self.flip)
