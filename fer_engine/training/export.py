"""Export a trained Keras model for serving: TFLite (int8, else float16), checked against Keras, plus metadata."""

from __future__ import annotations

import json
import logging
import subprocess
import time
from pathlib import Path

import numpy as np

from fer_engine.classifier import KERAS_FILE, METADATA_FILE, TFLITE_FILE, EmotionClassifier
from fer_engine.datasets import FaceSet
from fer_engine.labels import EMOTIONS
from fer_engine.metrics import validation_reports
from fer_engine.preprocess import INPUT_SIZE
from fer_engine.training.model import build_model, predict_proba

log = logging.getLogger(__name__)

#: Training images used to calibrate int8 quantisation.
CALIBRATION_IMAGES = 500
#: The served model must pick the same top emotion as the Keras model on at least this share of faces.
MIN_TOP1_AGREEMENT = 0.97

#: Files whose last commit identifies the code that trained a model (recorded in its metadata).
TRAINING_CODE = ["fer_engine/training", "fer_engine/labels.py", "fer_engine/datasets.py"]


def convert(model, calibration: np.ndarray | None) -> bytes:
    """Keras model -> TFLite bytes with float32 input and output.

    With calibration images: int8 weights and activations (fastest); without: float16 weights.
    """
    import tensorflow as tf

    converter = tf.lite.TFLiteConverter.from_keras_model(model)
    converter.optimizations = [tf.lite.Optimize.DEFAULT]
    if calibration is None:
        converter.target_spec.supported_types = [tf.float16]
    else:

        def representative():
            for image in calibration:
                yield [image[None, ..., None].astype(np.float32)]

        converter.representative_dataset = representative
    return converter.convert()


def _git(*args: str) -> str | None:
    try:
        return subprocess.run(["git", *args], capture_output=True, text=True, check=True).stdout.strip() or None
    except (OSError, subprocess.CalledProcessError):
        return None


def export_trained_model(model, val: FaceSet, train: FaceSet, metadata: dict, out_dir: Path) -> dict:
    """Write the Keras weights, the TFLite model and ``metadata.json`` into ``out_dir``."""
    out_dir.mkdir(parents=True, exist_ok=True)
    _save_bare_weights(model, metadata["settings"]["stages"], out_dir / KERAS_FILE)
    rng = np.random.default_rng(0)
    calibration = train.x[rng.choice(len(train), min(CALIBRATION_IMAGES, len(train)), replace=False)]
    keras_probs = predict_proba(model, val.x)
    # Metadata first (classes), so the classifier can check the order it is loading.
    metadata = {
        **metadata,
        "classes": list(EMOTIONS),
        "input": {"size": INPUT_SIZE, "channels": 1, "dtype": "float32", "range": [0, 255]},
        "preprocessing": (
            "grey face crop (detector box squared, 5% margin), resized to 48x48 (INTER_AREA), "
            "raw 0..255 values; the model rescales to [-1, 1] itself"
        ),
        "files": {"keras_weights": KERAS_FILE, "tflite": TFLITE_FILE},
        "git_commit": _git("rev-parse", "HEAD"),
        "training_code_commit": _git("log", "-1", "--format=%H", "--", *TRAINING_CODE),
        "exported_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
    }
    (out_dir / METADATA_FILE).write_text(json.dumps(metadata, indent=1))

    for quantization, images in (("int8", calibration), ("float16", None)):
        (out_dir / TFLITE_FILE).write_bytes(convert(model, images))
        served = EmotionClassifier(out_dir)
        served_probs = served.predict(val.x)
        agreement = float((served_probs.argmax(1) == keras_probs.argmax(1)).mean())
        log.info("%s TFLite model agrees with Keras on %.2f%% of validation faces", quantization, 100 * agreement)
        if agreement >= MIN_TOP1_AGREEMENT:
            break
    metadata["tflite_check"] = {
        "quantization": quantization,
        "top1_agreement_with_keras": agreement,
        "mean_abs_probability_difference": float(np.abs(served_probs - keras_probs).mean()),
        "size_bytes": (out_dir / TFLITE_FILE).stat().st_size,
    }
    metadata["validation"] = {
        "served_tflite_flip": validation_reports(served.predict(val.x, flip=True), val),
        "served_tflite": validation_reports(served_probs, val),
        "keras_float": validation_reports(keras_probs, val),
    }
    (out_dir / METADATA_FILE).write_text(json.dumps(metadata, indent=1))
    summary = {k: {lab: round(r["accuracy"], 4) for lab, r in v.items()} for k, v in metadata["validation"].items()}
    log.info("exported to %s; validation accuracy %s", out_dir, summary)
    return metadata


def _save_bare_weights(model, stages, path: Path) -> None:
    """Layer weights only: a compiled model's file also carries the optimizer state (three times the size)."""
    bare = build_model(stages)
    bare.set_weights(model.get_weights())
    bare.save_weights(path)
