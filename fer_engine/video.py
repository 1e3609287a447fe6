"""Annotate a video file (or a webcam) frame by frame and measure frames per second."""

from __future__ import annotations

import logging
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import cv2

from fer_engine.analyzer import Analyzer
from fer_engine.annotate import annotate

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class VideoStats:
    frames: int
    seconds: float
    faces: int

    @property
    def fps(self) -> float:
        return self.frames / self.seconds if self.seconds else 0.0


def open_source(source: str) -> cv2.VideoCapture:
    """A file path, or a webcam index such as ``0``."""
    capture = cv2.VideoCapture(int(source) if source.isdigit() else source)
    if not capture.isOpened():
        raise OSError(f"cannot open video source {source!r}")
    return capture


def annotate_video(
    analyzer: Analyzer, source: str, out: Path | None, max_frames: int | None = None, progress: bool = True
) -> VideoStats:
    """Analyse each frame, write an annotated copy to ``out`` (mp4), and time the analysis."""
    capture = open_source(source)
    total = int(capture.get(cv2.CAP_PROP_FRAME_COUNT)) or None
    fps_in = capture.get(cv2.CAP_PROP_FPS) or 25.0
    writer = None
    frames = faces = 0
    busy = 0.0
    try:
        while max_frames is None or frames < max_frames:
            ok, frame = capture.read()
            if not ok:
                break
            started = time.perf_counter()
            analysis = analyzer.analyze_image(frame)
            busy += time.perf_counter() - started
            frames += 1
            faces += len(analysis.faces)
            if out is not None:
                if writer is None:
                    out.parent.mkdir(parents=True, exist_ok=True)
                    height, width = frame.shape[:2]
                    writer = cv2.VideoWriter(str(out), cv2.VideoWriter_fourcc(*"mp4v"), fps_in, (width, height))
                writer.write(annotate(frame, analysis, numbered=False))
            if progress:
                _progress(frames, total if max_frames is None else min(total or max_frames, max_frames), busy)
    finally:
        capture.release()
        if writer is not None:
            writer.release()
        if progress:
            sys.stderr.write("\n")
    return VideoStats(frames=frames, seconds=busy, faces=faces)


def _progress(done: int, total: int | None, busy: float, width: int = 30) -> None:
    fps = done / busy if busy else 0.0
    if total:
        filled = int(width * done / total)
        bar = "#" * filled + "-" * (width - filled)
        sys.stderr.write(f"\r[{bar}] {done}/{total} frames, {fps:.1f} frames/s")
    else:
        sys.stderr.write(f"\r{done} frames, {fps:.1f} frames/s")
    sys.stderr.flush()
