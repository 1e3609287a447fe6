"""Training augmentations that mimic other cameras."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from fer_engine.datasets import data_dir

VAL = data_dir() / "fer2013" / "val.npz"


@pytest.fixture(scope="module")
def faces() -> np.ndarray:
    if not VAL.exists():
        pytest.skip("shared data missing: fer2013/val.npz")
    with np.load(VAL) as data:
        return data["x"][:16, ..., None].astype(np.float32)


@pytest.mark.parametrize("quality", [20, 70])
def test_jpeg_round_trip_matches_an_encoder_at_the_drawn_quality(faces, monkeypatch, quality):
    import tensorflow as tf

    from fer_engine.training import augment

    monkeypatch.setattr(augment, "JPEG_QUALITY", (quality, quality))
    out = augment._random_jpeg(tf.constant(faces), 1.0).numpy()
    assert out.shape == faces.shape and out.min() >= 0 and out.max() <= 255
    for face, compressed in zip(faces, out, strict=True):
        _, encoded = cv2.imencode(".jpg", face.astype(np.uint8), [cv2.IMWRITE_JPEG_QUALITY, quality])
        reference = cv2.imdecode(encoded, cv2.IMREAD_GRAYSCALE).astype(np.float32)[..., None]
        assert np.abs(compressed - face).mean() > 0.5, "the face was recompressed"
        assert np.abs(compressed - reference).mean() < 1.0, "as a JPEG encoder at that quality would"


def test_jpeg_round_trip_leaves_the_faces_it_does_not_draw(faces):
    import tensorflow as tf

    from fer_engine.training.augment import _random_jpeg

    assert np.array_equal(_random_jpeg(tf.constant(faces), 0.0).numpy(), faces)
    tf.random.set_seed(5)
    out = _random_jpeg(tf.constant(np.repeat(faces, 8, axis=0)), 0.3).numpy()
    changed = np.abs(out - np.repeat(faces, 8, axis=0)).reshape(len(out), -1).max(axis=1) > 0
    assert 0.1 < changed.mean() < 0.5, "about 30% of the faces"
