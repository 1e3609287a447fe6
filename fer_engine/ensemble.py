"""Combine trained models into one served ensemble: ``ensemble.json`` naming member folders.

``python -m fer_engine ensemble weights/seed1234 weights/seed7 --out weights`` writes
``weights/ensemble.json`` with the members (relative to ``--out``) and the validation reports of
each member and of their average, so the choice is recorded next to the weights.
"""

from __future__ import annotations

import json
import os
import time
from pathlib import Path

from fer_engine.classifier import ENSEMBLE_FILE, EmotionClassifier
from fer_engine.datasets import load_npz
from fer_engine.metrics import validation_reports


def write_ensemble(members: list[Path], out_dir: Path, val_path: Path) -> dict:
    """Record ``members`` as the model of ``out_dir`` and score them, alone and together, on ``val_path``."""
    out_dir = out_dir.resolve()
    relative = [os.path.relpath(member.resolve(), out_dir) for member in members]
    if any(r.startswith("..") for r in relative):
        raise ValueError(f"members must live inside {out_dir}, so the folder can be moved as a whole")
    val = load_npz(val_path)
    scores = {}
    for member in members:
        probs = EmotionClassifier(member).predict(val.x, flip=True)
        scores[os.path.relpath(member.resolve(), out_dir)] = _accuracies(validation_reports(probs, val))
    record = {"members": relative, "combination": "mean of member probabilities", "validation": {}}
    (out_dir / ENSEMBLE_FILE).write_text(json.dumps(record, indent=1))
    ensemble = EmotionClassifier(out_dir)
    reports = validation_reports(ensemble.predict(val.x, flip=True), val)
    record["validation"] = {"data": str(val_path), "flip": True, "members": scores, "ensemble": reports}
    record["written_at"] = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
    (out_dir / ENSEMBLE_FILE).write_text(json.dumps(record, indent=1))
    return {"members": scores, "ensemble": _accuracies(reports)}


def _accuracies(reports: dict) -> dict:
    return {name: round(report["accuracy"], 4) for name, report in reports.items()}
