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


def test_rectangle_masks_cover_exactly_the_rows_and_columns_asked_for():
    import tensorflow as tf

    from fer_engine.training.augment import rectangle_masks

    masks = rectangle_masks(6, 8, tf.constant([1, 0]), tf.constant([3, 6]), tf.constant([2, 7]), tf.constant([5, 8]))
    expected = np.zeros((2, 6, 8), bool)
    expected[0, 1:3, 2:5] = True
    expected[1, 0:6, 7:8] = True
    assert np.array_equal(masks.numpy(), expected)
    # Float bounds: a pixel counts when its centre is inside.
    bounds = (tf.constant([v]) for v in (0.6, 2.4, 0.0, 1.5))
    [centres_inside] = rectangle_masks(4, 4, *bounds).numpy()
    assert np.array_equal(np.argwhere(centres_inside), [[1, 0]])


def test_random_erase_blanks_one_rectangle_with_the_face_mean(faces):
    import tensorflow as tf

    from fer_engine.training.augment import _random_erase

    out = _random_erase(tf.constant(faces), 1.0).numpy()
    for face, erased in zip(faces, out, strict=True):
        changed = erased[..., 0] != face[..., 0]
        rows, cols = np.nonzero(changed)
        assert all(48 // 8 <= np.ptp(axis) + 1 < 48 / 3 for axis in (rows, cols))
        box = erased[rows.min():rows.max() + 1, cols.min():cols.max() + 1, 0]
        assert np.allclose(box, face.mean(), atol=1e-3), "one rectangle, filled with the face's mean"
