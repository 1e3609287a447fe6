"""AffectNet faces made to look like FER2013 crops: the black surround found and replaced, labels softened."""

from __future__ import annotations

import cv2
import numpy as np

from fer_engine.training.sources import blend_into_background, load_affectnet, surround_mask


def _masked_face(side: int = 64) -> np.ndarray:
    """A bright oval face with dark eyes on a black surround, as AffectNet stores them."""
    face = np.zeros((side, side), np.uint8)
    cv2.ellipse(face, (side // 2, side // 2 + 4), (side // 3, side // 2 - 4), 0, 0, 360, 170, -1)
    for x in (side // 2 - 9, side // 2 + 9):
        cv2.circle(face, (x, side // 2), 3, 5, -1)  # eyes darker than the surround level, inside the face
    return face


def test_surround_mask_covers_the_black_border_not_the_dark_eyes():
    mask = surround_mask(_masked_face())
    assert mask[0, 0] < 0.05 and mask[63, 0] < 0.05 and mask[0, 63] < 0.05
    assert mask[32, 32 - 9] > 0.95 and mask[32, 32 + 9] > 0.95, "dark eyes are inside the face"
    assert mask[36, 32] > 0.95


def test_blend_fills_the_surround_from_the_background_and_keeps_the_face():
    face, background = _masked_face(), np.full((48, 48), 90, np.uint8)
    blended = blend_into_background(face, background)
    assert blended.shape == face.shape
    assert abs(int(blended[1, 1]) - 90) <= 2, "corner comes from the borrowed surround"
    assert abs(int(blended[36, 32]) - 170) <= 3, "the face itself is kept"
    face_width = np.count_nonzero(blended[36] > 130)
    assert face_width < np.count_nonzero(face[36] > 130), "the face is shrunk to FER2013's framing"


def test_load_affectnet_skips_fer2013_copies_and_smooths_labels(tmp_path):
    faces = np.stack([_masked_face()] * 4)
    path = tmp_path / "affectnet.npz"
    np.savez(path, x=faces, y=np.array([0, 3, 5, 6]), in_fer2013=np.array([False, True, False, False]))
    backgrounds = np.full((2, 48, 48), 60, np.uint8)
    faces_set, targets = load_affectnet(str(path), backgrounds, seed=0, smoothing=0.14)
    assert faces_set.x.shape == (3, 48, 48) and faces_set.y.tolist() == [0, 5, 6]
    assert np.allclose(targets.sum(axis=1), 1) and targets[0].argmax() == 0
    assert np.isclose(targets[0, 0], 0.86 + 0.02) and np.isclose(targets[0, 1], 0.02)
