"""Classification metrics: accuracy, macro-F1, per-class precision/recall/F1, confusion matrix."""

from __future__ import annotations

from dataclasses import asdict, dataclass

import numpy as np

from fer_engine.datasets import FaceSet
from fer_engine.labels import EMOTIONS, NUM_CLASSES, ferplus_majority


@dataclass(frozen=True)
class ClassScores:
    precision: float
    recall: float
    f1: float
    support: int


@dataclass(frozen=True)
class Report:
    """Scores of predictions against one labelling."""

    labelling: str
    images: int
    accuracy: float
    macro_f1: float
    per_class: dict[str, ClassScores]
    confusion: list[list[int]]  # rows: true class, columns: predicted class, EMOTIONS order

    def as_dict(self) -> dict:
        return asdict(self)

    @property
    def balanced_recall(self) -> float:
        """The mean recall over the classes present: every class counts alike, however rare."""
        recalls = [s.recall for s in self.per_class.values() if s.support]
        return float(np.mean(recalls)) if recalls else 0.0


def score(y_true: np.ndarray, y_pred: np.ndarray, labelling: str) -> Report:
    """Score predictions; entries with ``y_true < 0`` (no usable label) are left out."""
    keep = y_true >= 0
    y_true, y_pred = y_true[keep], y_pred[keep]
    confusion = np.zeros((NUM_CLASSES, NUM_CLASSES), np.int64)
    np.add.at(confusion, (y_true, y_pred), 1)
    per_class = {}
    f1s = []
    for c, name in enumerate(EMOTIONS):
        tp = confusion[c, c]
        predicted, actual = confusion[:, c].sum(), confusion[c, :].sum()
        precision = tp / predicted if predicted else 0.0
        recall = tp / actual if actual else 0.0
        f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
        per_class[name] = ClassScores(float(precision), float(recall), float(f1), int(actual))
        if actual:
            f1s.append(f1)
    return Report(
        labelling=labelling,
        images=int(len(y_true)),
        accuracy=float((y_true == y_pred).mean()) if len(y_true) else 0.0,
        macro_f1=float(np.mean(f1s)) if f1s else 0.0,
        per_class=per_class,
        confusion=confusion.tolist(),
    )


def format_report(report: Report) -> str:
    """A plain-text table of one report."""
    lines = [
        f"{report.labelling}: {report.images} images, accuracy {report.accuracy:.2%}, macro-F1 {report.macro_f1:.3f}",
        f"{'class':10} {'precision':>9} {'recall':>7} {'F1':>6} {'support':>8}",
    ]
    for name, s in report.per_class.items():
        lines.append(f"{name:10} {s.precision:>9.3f} {s.recall:>7.3f} {s.f1:>6.3f} {s.support:>8}")
    short = [name[:5] for name in EMOTIONS]
    lines.append("confusion (rows true, columns predicted):")
    lines.append(" " * 10 + " ".join(f"{s:>6}" for s in short))
    for name, row in zip(EMOTIONS, report.confusion, strict=True):
        lines.append(f"{name:10}" + " ".join(f"{v:>6}" for v in row))
    return "\n".join(lines)


def validation_reports(probs: np.ndarray, val: FaceSet) -> dict:
    """Reports against the set's own labels and, when FER+ votes exist, the FER+ majority.

    A set with votes is FER2013-derived, so its ``y`` is reported as the FER2013 label.
    """
    pred = probs.argmax(axis=1)
    if val.votes is None:
        return {"labels": score(val.y, pred, "labels (y)").as_dict()}
    return {
        "fer2013": score(val.y, pred, "FER2013 label").as_dict(),
        "ferplus": score(ferplus_majority(val.votes), pred, "FER+ majority").as_dict(),
    }
