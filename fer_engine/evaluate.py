"""Evaluate the served model on a labelled set: an npz of crops, or a folder of photos per class.

Writes ``report.json``, a confusion-matrix PNG per labelling and, when TensorFlow is
installed, ``feature_maps.png`` (what a few CNN layers see for one face).
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from fer_engine.analyzer import Analyzer
from fer_engine.datasets import FaceSet, load_npz
from fer_engine.errors import ImageError
from fer_engine.faces import Box
from fer_engine.image_io import read_image_file
from fer_engine.labels import EMOTIONS
from fer_engine.metrics import Report, format_report, validation_reports
from fer_engine.preprocess import INPUT_SIZE, crop_face, resize_crops

log = logging.getLogger(__name__)

IMAGE_SUFFIXES = {".jpg", ".jpeg", ".png", ".bmp", ".webp", ".gif", ".tif", ".tiff"}
#: Folder names people use for our classes (lower case) -> our class name.
CLASS_ALIASES = {
    "anger": "angry", "angry": "angry", "an": "angry",
    "disgust": "disgust", "disgusted": "disgust", "di": "disgust",
    "fear": "fear", "fearful": "fear", "afraid": "fear", "fe": "fear",
    "happy": "happy", "happiness": "happy", "joy": "happy", "ha": "happy",
    "sad": "sad", "sadness": "sad", "sa": "sad",
    "surprise": "surprise", "surprised": "surprise", "su": "surprise",
    "neutral": "neutral", "ne": "neutral", "calm": "neutral",
}  # fmt: skip


@dataclass(frozen=True)
class FolderSet:
    """Faces found in a folder of photos, plus how many photos gave no usable face."""

    faces: FaceSet
    no_face: int
    unreadable: int
    skipped_classes: tuple[str, ...]


def load_folder(root: Path, analyzer: Analyzer, crops: bool = False, per_class: int | None = None) -> FolderSet:
    """One sub-folder per class; the largest face of each photo is used.

    With ``crops`` the photos are already face crops (as in film-still sets): each whole image,
    squared, is the face and no detector runs.  ``per_class`` keeps the first N photos of each class.
    """
    faces_found, labels, no_face, unreadable, skipped = [], [], 0, 0, []
    for sub in sorted(p for p in root.iterdir() if p.is_dir()):
        name = CLASS_ALIASES.get(sub.name.lower())
        if name is None:
            skipped.append(sub.name)
            continue
        for path in sorted(p for p in sub.rglob("*") if p.suffix.lower() in IMAGE_SUFFIXES)[:per_class]:
            try:
                image = read_image_file(path)
            except ImageError as exc:
                log.warning("%s: %s", path, exc)
                unreadable += 1
                continue
            faces = [whole_image_crop(image)] if crops else analyzer.face_crops(image)[1]
            if not faces:
                no_face += 1
                continue
            faces_found.append(faces[0])
            labels.append(EMOTIONS.index(name))
    if skipped:
        log.warning("left out folders that name no class of ours: %s", ", ".join(skipped))
    x = np.stack(faces_found) if faces_found else np.zeros((0, INPUT_SIZE, INPUT_SIZE), np.uint8)
    return FolderSet(FaceSet(x, np.array(labels, np.int64)), no_face, unreadable, tuple(skipped))


def whole_image_crop(image: np.ndarray) -> np.ndarray:
    """An image that is already a face crop, squared by replicating its edges, at the CNN's size."""
    height, width = image.shape[:2]
    return crop_face(image, Box(0, 0, width, height), margin=0.0)


def evaluate(
    data: Path,
    out_dir: Path,
    analyzer: Analyzer,
    feature_maps: bool = True,
    crops: bool = False,
    per_class: int | None = None,
) -> dict:
    """Score the analyzer's classifier on ``data``; write JSON and PNGs to ``out_dir``; return the summary.

    For a folder, ``crops`` and ``per_class`` are passed to ``load_folder``.
    """
    out_dir.mkdir(parents=True, exist_ok=True)
    extra: dict = {}
    if data.is_dir():
        folder = load_folder(data, analyzer, crops=crops, per_class=per_class)
        faces = folder.faces
        extra = {
            "photos_without_face": folder.no_face,
            "unreadable": folder.unreadable,
            "skipped_folders": list(folder.skipped_classes),
        }
    else:
        faces = load_npz(data)
        faces = FaceSet(resize_crops(faces.x), faces.y, faces.votes)
    probs = analyzer.classify_crops(faces.x)
    reports = validation_reports(probs, faces)
    if data.is_dir():
        # A photo whose face was missed counts as wrong here: accuracy over all photos, not found faces.
        total = len(faces) + extra["photos_without_face"] + extra["unreadable"]
        correct = int((probs.argmax(axis=1) == faces.y).sum())
        extra["accuracy_over_all_photos"] = correct / total if total else 0.0
        reports = {"labels": {**reports["labels"], "labelling": "folder label"}}
    summary = {"data": str(data), "images": len(faces), "flip": analyzer.flip, **extra, "reports": reports}
    (out_dir / "report.json").write_text(json.dumps(summary, indent=1))
    for key, report in reports.items():
        plot_confusion(report, out_dir / f"confusion_{key}.png")
    if feature_maps and len(faces):
        save_feature_maps(analyzer, faces.x[0], out_dir / "feature_maps.png")
    return summary


def print_summary(summary: dict) -> str:
    blocks = []
    for report in summary["reports"].values():
        blocks.append(format_report(Report(**{**report, "per_class": _scores(report["per_class"])})))
    for key in ("photos_without_face", "unreadable", "accuracy_over_all_photos"):
        if key in summary:
            blocks.append(f"{key.replace('_', ' ')}: {summary[key]}")
    return "\n\n".join(blocks)


def _scores(per_class: dict) -> dict:
    from fer_engine.metrics import ClassScores

    return {name: ClassScores(**values) for name, values in per_class.items()}


def plot_confusion(report: dict, path: Path) -> None:
    """Row-normalised confusion matrix as a PNG."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    counts = np.array(report["confusion"], dtype=float)
    shares = counts / np.maximum(counts.sum(axis=1, keepdims=True), 1)
    fig, ax = plt.subplots(figsize=(6.4, 5.6), dpi=110)
    ax.imshow(shares, cmap="Blues", vmin=0, vmax=1)
    ax.set_xticks(range(len(EMOTIONS)), EMOTIONS, rotation=35, ha="right")
    ax.set_yticks(range(len(EMOTIONS)), EMOTIONS)
    for i in range(len(EMOTIONS)):
        for j in range(len(EMOTIONS)):
            ax.text(j, i, f"{shares[i, j]:.2f}", ha="center", va="center", fontsize=8,
                    color="white" if shares[i, j] > 0.5 else "black")  # fmt: skip
    ax.set_xlabel("predicted")
    ax.set_ylabel("true")
    ax.set_title(f"{report['labelling']}: accuracy {report['accuracy']:.1%}, macro-F1 {report['macro_f1']:.3f}")
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)


def save_feature_maps(analyzer: Analyzer, face: np.ndarray, path: Path, per_layer: int = 8) -> bool:
    """What the CNN sees: the first channels of a few convolution layers for one 48x48 face."""
    weights = analyzer.classifier.keras_weights
    try:
        import keras  # noqa: F401  (TensorFlow is a training-time dependency)
    except ImportError:
        log.warning("feature maps need TensorFlow (pip install -e .[train]); skipped")
        return False
    if not weights.exists():
        log.warning("no Keras weights at %s; feature maps skipped", weights)
        return False
    import keras
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from fer_engine.training.model import load_keras_model

    model = load_keras_model(weights)
    layers = [layer for layer in model.layers if layer.name.endswith("relu0") or layer.name.endswith("relu1")]
    probe = keras.Model(model.input, [layer.output for layer in layers])
    outputs = probe(face[None, ..., None].astype(np.float32))
    fig, axes = plt.subplots(len(layers), per_layer + 1, figsize=(per_layer + 1, len(layers) * 1.1), dpi=100)
    for row, (layer, maps) in enumerate(zip(layers, outputs, strict=True)):
        maps = np.asarray(maps)[0]
        axes[row, 0].imshow(face, cmap="gray")
        axes[row, 0].set_ylabel(f"{layer.name}\n{maps.shape[0]}x{maps.shape[1]}", fontsize=7)
        strongest = np.argsort(maps.mean(axis=(0, 1)))[::-1][:per_layer]
        for col, channel in enumerate(strongest, start=1):
            axes[row, col].imshow(maps[..., channel], cmap="viridis")
    for ax in axes.flat:
        ax.set_xticks([])
        ax.set_yticks([])
    fig.suptitle("What the CNN sees: the most active channels of each convolution layer", fontsize=9)
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)
    return True
