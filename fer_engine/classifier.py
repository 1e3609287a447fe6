"""Serving the trained CNN through LiteRT (the TFLite interpreter): no TensorFlow at run time."""

from __future__ import annotations

import json
import logging
import os
import threading
from pathlib import Path

import numpy as np

from fer_engine.errors import ModelNotFound
from fer_engine.labels import EMOTIONS

log = logging.getLogger(__name__)

#: The committed model; FER_MODEL_DIR points elsewhere (e.g. a freshly trained one); empty counts as unset.
DEFAULT_MODEL_DIR = Path(os.environ.get("FER_MODEL_DIR") or Path(__file__).resolve().parents[1] / "weights")
TFLITE_FILE = "fer_cnn.tflite"
KERAS_FILE = "fer_cnn.weights.h5"
METADATA_FILE = "metadata.json"
ENSEMBLE_FILE = "ensemble.json"


class _TFLiteModel:
    """One exported model, with an interpreter per thread (interpreters are not thread-safe)."""

    def __init__(self, folder: Path, num_threads: int) -> None:
        path = folder / TFLITE_FILE
        if not path.exists():
            raise ModelNotFound(
                f"No model at {path}; the repository ships one in weights/, and weights/README.md says how to make it."
            )
        self.folder = folder
        self.metadata = _read_metadata(folder)
        #: This model's decision rule, chosen by ``python -m fer_engine calibrate`` (None: plain probabilities).
        weights = (self.metadata.get("decision") or {}).get("class_weights")
        self.decision_weights = None if weights is None else np.asarray(weights, np.float32)
        classes = tuple(self.metadata.get("classes", EMOTIONS))
        if classes != EMOTIONS:
            raise ValueError(f"{folder}: model classes {classes} differ from {EMOTIONS}")
        self._bytes = path.read_bytes()
        self._num_threads = num_threads
        self._local = threading.local()
        self._interpreter()  # fail now, not on the first face, if the file is broken

    def _interpreter(self):
        interpreter = getattr(self._local, "interpreter", None)
        if interpreter is None:
            from ai_edge_litert.interpreter import Interpreter

            interpreter = Interpreter(model_content=self._bytes, num_threads=self._num_threads)
            interpreter.allocate_tensors()
            self._local.interpreter = interpreter
            self._local.batch = 1
            # Looked up once: the details calls build dicts, a visible share of a 0.25 ms inference.
            self._local.input_index = interpreter.get_input_details()[0]["index"]
            self._local.output_index = interpreter.get_output_details()[0]["index"]
        return interpreter

    def invoke(self, batch: np.ndarray) -> np.ndarray:
        interpreter = self._interpreter()
        local = self._local
        if local.batch != len(batch):
            interpreter.resize_tensor_input(local.input_index, batch.shape)
            interpreter.allocate_tensors()
            local.batch = len(batch)
        interpreter.set_tensor(local.input_index, batch)
        interpreter.invoke()
        return interpreter.get_tensor(local.output_index)


def member_dirs(model_dir: Path) -> list[Path]:
    """The model folders to serve: the members listed in ``ensemble.json``, else ``model_dir`` itself."""
    ensemble = model_dir / ENSEMBLE_FILE
    if not ensemble.exists():
        return [model_dir]
    members = json.loads(ensemble.read_text()).get("members") or []
    if not members:
        raise ValueError(f"{ensemble}: 'members' must list at least one model folder")
    return [model_dir / member for member in members]


class EmotionClassifier:
    """Seven-way probabilities for batches of 48x48 grey face crops.

    A model folder holds one exported model, or an ``ensemble.json`` naming member folders whose
    probabilities are averaged.  Thread-safe: a thread pool can classify in parallel.
    """

    def __init__(self, model_dir: str | Path | None = None, num_threads: int = 1) -> None:
        self.model_dir = Path(model_dir or DEFAULT_MODEL_DIR)
        self.members = [_TFLiteModel(folder, num_threads) for folder in member_dirs(self.model_dir)]
        self.metadata = self.members[0].metadata

    @property
    def mirrored(self) -> bool:
        """Whether the model is served with mirrored averaging (``serving.mirror`` in its metadata, set by
        ``calibrate``): a model distilled from mirrored teachers may not need the second pass."""
        return bool(self.metadata.get("serving", {}).get("mirror", True))

    @property
    def keras_weights(self) -> Path:
        """The (first) member's Keras weights, for tools that need the layers (feature maps)."""
        return self.members[0].folder / KERAS_FILE

    def predict(self, crops: np.ndarray, flip: bool = False, decide: bool = True) -> np.ndarray:
        """(N, 48, 48) uint8 crops -> (N, 7) probabilities in ``EMOTIONS`` order, in one batch.

        With ``flip``, each face is also classified mirrored and the two results averaged.  With
        ``decide`` each model's calibrated decision rule re-weighs its classes (``apply_decision``)
        before any averaging.
        """
        if len(crops) == 0:
            return np.zeros((0, len(EMOTIONS)), np.float32)
        batch = crops[..., None].astype(np.float32)
        if flip:
            batch = np.concatenate([batch, batch[:, :, ::-1]])
        outputs = [
            apply_decision(_normalised(member.invoke(batch)), member.decision_weights if decide else None)
            for member in self.members
        ]
        probs = np.mean(outputs, axis=0)
        if flip:
            probs = (probs[: len(crops)] + probs[len(crops) :]) / 2
        return probs


def apply_decision(probs: np.ndarray, weights: np.ndarray | None) -> np.ndarray:
    """The decision rule: each class's probability times its weight, renormalised (None: unchanged)."""
    return probs if weights is None else _normalised(probs * weights)


def _normalised(probs: np.ndarray) -> np.ndarray:
    """int8 outputs come in steps of 1/256 and sum to 1 only roughly; shares shown to people should add up."""
    return probs / np.maximum(probs.sum(axis=1, keepdims=True), 1e-6)


def _read_metadata(model_dir: Path) -> dict:
    path = model_dir / METADATA_FILE
    if not path.exists():
        log.warning("%s is missing; assuming the standard class order", path)
        return {}
    return json.loads(path.read_text())
