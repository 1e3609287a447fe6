"""Recognition off the event loop (decode + detect + CNN in the worker pool) and the reading's reply text."""

from __future__ import annotations

import asyncio
import logging
import time
from concurrent.futures import Executor
from dataclasses import dataclass

from bot.replies import MAX_CAPTION, clip, emoji, emotion_share, emotion_word, percent, top_emotions
from dialogs import Dialogs
from fer_engine import Analysis, Analyzer, FaceResult
from fer_engine.annotate import annotate, encode_jpeg
from fer_engine.image_io import decode_image
from fer_engine.quality import TOO_BLURRED, TOO_DARK, TOO_SMALL

log = logging.getLogger(__name__)

#: Below this top share the reading is prefixed with the "hard to read" line.
UNCERTAIN_SHARE = 0.40
#: At most this many faces are listed one by one (a crowd would overflow a caption).
MAX_LISTED_FACES = 6

_QUALITY_KEYS = {
    TOO_SMALL: "face_too_small",
    TOO_DARK: "reading.face_too_dark",
    TOO_BLURRED: "reading.face_too_blurred",
}


@dataclass(frozen=True)
class Recognition:
    """What the worker found: the analysis, an annotated JPEG when there are several faces, and the time taken."""

    analysis: Analysis
    annotated_jpeg: bytes | None
    seconds: float


def recognise(analyzer: Analyzer, data: bytes, *, max_bytes: int) -> Recognition:
    """Decode once, analyse, and annotate when there is more than one face (blocking: run it in the pool)."""
    started = time.perf_counter()
    image = decode_image(data, max_bytes=max_bytes)
    analysis = analyzer.analyze_image(image)
    annotated = encode_jpeg(annotate(image, analysis)) if len(analysis.faces) > 1 else None
    return Recognition(analysis, annotated, time.perf_counter() - started)


async def recognise_in_pool(executor: Executor, analyzer: Analyzer, data: bytes, *, max_bytes: int) -> Recognition:
    """``recognise`` on the recognition thread pool, so the event loop keeps serving other people."""
    loop = asyncio.get_running_loop()
    return await loop.run_in_executor(executor, lambda: recognise(analyzer, data, max_bytes=max_bytes))


def main_face(analysis: Analysis) -> FaceResult | None:
    """The face the check-in and the suggestions follow: the largest one that could be read."""
    return next((face for face in analysis.faces if face.judged), None)


def reading_text(dialogs: Dialogs, analysis: Analysis) -> str:
    """The reply to a photo: top 3 emotions of the expression, per face when there are several."""
    faces = analysis.faces
    if not faces:
        return dialogs.text("no_face")
    if len(faces) == 1:
        return _single(dialogs, faces[0])
    judged = [n for n, face in enumerate(faces, start=1) if face.judged]
    if not judged:
        return dialogs.text("reading.none_readable", count=len(faces))
    lines = [dialogs.text("reading.faces_header", count=len(faces))]
    for number, face in enumerate(faces[:MAX_LISTED_FACES], start=1):
        lines.append(f"{number}. {_face_line(dialogs, face)}")
    if len(faces) > MAX_LISTED_FACES:
        lines.append(dialogs.text("reading.more_faces", count=len(faces) - MAX_LISTED_FACES))
    lines.append("")
    lines.append(dialogs.text("reading.following", count=judged[0]))
    return clip("\n".join(lines), MAX_CAPTION)


def _single(dialogs: Dialogs, face: FaceResult) -> str:
    if not face.judged:
        return dialogs.text(_QUALITY_KEYS.get(face.quality or "", "face_too_small"))
    emotion, share = face.top(1)[0]
    head = dialogs.text("reading.single", emotion=emotion_word(dialogs, emotion), share=percent(share))
    if share < UNCERTAIN_SHARE:
        head = f"{dialogs.text('uncertain')}\n{head}"
    return "\n\n".join([head, "\n".join(top_emotions(dialogs, face))])


def _face_line(dialogs: Dialogs, face: FaceResult) -> str:
    if not face.judged:
        message = face.quality_message or "this face can't be read"
        return message[0].upper() + message[1:] + "."
    (emotion, share), *others = face.top(3)
    words = dialogs.text("reading.face", emotion=emotion_word(dialogs, emotion), share=percent(share))
    line = f"{emoji(dialogs, emotion)} {words}"
    if others:
        line += " (" + ", ".join(emotion_share(dialogs, e, s) for e, s in others) + ")"
    return line
