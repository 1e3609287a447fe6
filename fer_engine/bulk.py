"""Analyse many images at once: a table, optional CSV/JSON, optional annotated copies."""

from __future__ import annotations

import csv
import json
import logging
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

import cv2

from fer_engine.analyzer import Analysis, Analyzer
from fer_engine.annotate import annotate
from fer_engine.errors import ImageError
from fer_engine.image_io import read_image_file
from fer_engine.labels import EMOTIONS

log = logging.getLogger(__name__)

IMAGE_SUFFIXES = {".jpg", ".jpeg", ".png", ".bmp", ".webp", ".gif", ".tif", ".tiff"}


@dataclass(frozen=True)
class ImageOutcome:
    path: Path
    analysis: Analysis | None
    error: str | None = None


def image_paths(inputs: Iterable[Path]) -> Iterator[Path]:
    """The given files, and image files found (recursively, sorted) in the given folders."""
    for item in inputs:
        if item.is_dir():
            yield from sorted(p for p in item.rglob("*") if p.suffix.lower() in IMAGE_SUFFIXES)
        else:
            yield item


def analyze_paths(analyzer: Analyzer, inputs: Iterable[Path], annotate_dir: Path | None = None) -> list[ImageOutcome]:
    """Analyse each image; unreadable ones are reported, never fatal."""
    outcomes = []
    if annotate_dir:
        annotate_dir.mkdir(parents=True, exist_ok=True)
    for path in image_paths(inputs):
        try:
            image = read_image_file(path)
        except (ImageError, OSError) as exc:
            outcomes.append(ImageOutcome(path, None, str(exc)))
            continue
        analysis = analyzer.analyze_image(image)
        outcomes.append(ImageOutcome(path, analysis))
        if annotate_dir:
            cv2.imwrite(str(annotate_dir / f"{path.stem}_annotated.jpg"), annotate(image, analysis))
    return outcomes


def rows(outcomes: list[ImageOutcome]) -> list[dict]:
    """One row per face (or per image without a usable face), flat, for tables and CSV."""
    table = []
    for outcome in outcomes:
        base = {"image": str(outcome.path)}
        if outcome.analysis is None or not outcome.analysis.faces:
            table.append({**base, "face": "", "status": outcome.error or "no face found"})
            continue
        for number, face in enumerate(outcome.analysis.faces, start=1):
            row = {**base, "face": number, "box": " ".join(map(str, face.box.as_tuple()))}
            row["status"] = face.quality or "ok"
            row["top"] = face.emotion or ""
            for name, p in zip(EMOTIONS, face.probabilities or [None] * len(EMOTIONS), strict=True):
                row[name] = "" if p is None else round(p, 4)
            table.append(row)
    return table


def format_table(table: list[dict]) -> str:
    lines = [f"{'image':40} {'face':>4} {'status':14} top emotions"]
    for row in table:
        shares = sorted(((row[n], n) for n in EMOTIONS if row.get(n) not in (None, "")), reverse=True)[:3]
        top = ", ".join(f"{n} {p:.0%}" for p, n in shares)
        lines.append(f"{Path(row['image']).name[:40]:40} {row['face']!s:>4} {row['status'][:14]:14} {top}")
    return "\n".join(lines)


def write_csv(table: list[dict], path: Path) -> None:
    fields = ["image", "face", "box", "status", "top", *EMOTIONS]
    with path.open("w", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=fields, extrasaction="ignore")
        writer.writeheader()
        writer.writerows(table)


def write_json(outcomes: list[ImageOutcome], path: Path) -> None:
    payload = [
        {"image": str(o.path), "error": o.error, **(o.analysis.as_dict() if o.analysis else {})} for o in outcomes
    ]
    path.write_text(json.dumps(payload, indent=1))
