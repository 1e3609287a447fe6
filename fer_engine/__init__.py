"""Faces and emotions: detection (OpenCV), the emotion CNN (served by LiteRT), evaluation tools.

    from fer_engine import Analyzer, EMOTIONS
    analysis = Analyzer().analyze_bytes(open("selfie.jpg", "rb").read())
    for face in analysis.faces:
        print(face.box, face.top(3) or face.quality_message)

No Telegram imports here; the bot, the command line and the benchmarks share this API.
"""

from fer_engine.analyzer import Analysis, Analyzer, FaceResult
from fer_engine.errors import EmptyImage, ImageError, ImageTooLarge, ModelNotFound, UnreadableImage
from fer_engine.faces import Box
from fer_engine.labels import EMOTIONS

__all__ = [
    "EMOTIONS",
    "Analysis",
    "Analyzer",
    "Box",
    "EmptyImage",
    "FaceResult",
    "ImageError",
    "ImageTooLarge",
    "ModelNotFound",
    "UnreadableImage",
]
