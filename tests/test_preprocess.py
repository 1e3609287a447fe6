"""Crops fed to the CNN (box crops and aligned crops), FER+ label handling, and the metrics."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from fer_engine.faces import Box
from fer_engine.labels import EMOTIONS, ferplus_distribution, ferplus_majority, mixed_targets
from fer_engine.metrics import score
from fer_engine.preprocess import SIDE_PER_EYE_DISTANCE, aligned_crop, crop_face, face_crop, resize_crops


def test_crop_is_48x48_grey_from_colour():
    image = np.zeros((300, 400, 3), np.uint8)
    image[100:200, 150:250] = 200
    crop = crop_face(image, Box(150, 100, 100, 100))
    assert crop.shape == (48, 48) and crop.dtype == np.uint8
    assert crop[24, 24] == 200 and crop[0, 0] < 200, "face in the middle, a margin of background around it"


def test_crop_at_the_edge_is_padded_not_shrunk():
    image = np.full((100, 100), 90, np.uint8)
    crop = crop_face(image, Box(70, 70, 60, 60))  # sticks out of the image
    assert crop.shape == (48, 48) and (crop == 90).all()


def test_non_square_box_is_squared_around_its_centre():
    image = np.zeros((200, 200), np.uint8)
    image[50:150, 95:105] = 255  # a vertical bar through the centre
    crop = crop_face(image, Box(80, 50, 40, 100))
    assert crop[:, 24].mean() > 200 and crop[:, 2].mean() < 10


def test_resize_crops_any_size():
    crops = np.random.default_rng(0).integers(0, 255, (5, 64, 64), dtype=np.uint8)
    assert resize_crops(crops).shape == (5, 48, 48)
    assert resize_crops(crops[:, :48, :48]) is not None


# FER+ columns: neutral, happiness, surprise, sadness, anger, disgust, fear, contempt, unknown, not-a-face
def test_ferplus_columns_map_to_our_order():
    votes = np.zeros((7, 10), np.int64)
    for our_index, column in enumerate((4, 5, 6, 1, 3, 2, 0)):
        votes[our_index, column] = 10
    assert ferplus_majority(votes).tolist() == list(range(len(EMOTIONS)))


def test_ferplus_majority_without_usable_emotion_is_minus_one():
    votes = np.array([[1, 0, 0, 0, 0, 0, 0, 0, 9, 0], [0, 0, 0, 0, 0, 0, 0, 6, 0, 4], [0] * 10])
    assert ferplus_majority(votes).tolist() == [-1, -1, -1]


def test_mixed_targets_blend_votes_and_label():
    votes = np.array([[0, 10, 0, 0, 0, 0, 0, 0, 0, 0], [0] * 9 + [10]])
    targets = mixed_targets(np.array([6, 2]), votes, ferplus_weight=0.75)
    assert np.allclose(targets.sum(axis=1), 1)
    assert targets[0, EMOTIONS.index("happy")] == 0.75 and targets[0, EMOTIONS.index("neutral")] == 0.25
    assert targets[1, EMOTIONS.index("fear")] == 1.0, "no emotion votes: the FER2013 label alone"
    assert np.allclose(ferplus_distribution(votes)[1], 0)


def test_metrics_on_a_known_confusion():
    y_true = np.array([0, 0, 1, 3, 3, 3, -1])
    y_pred = np.array([0, 3, 1, 3, 3, 0, 5])
    report = score(y_true, y_pred, "test")
    assert report.images == 6 and abs(report.accuracy - 4 / 6) < 1e-9
    assert report.confusion[0][3] == 1 and report.confusion[3][0] == 1
    assert report.per_class["happy"].precision == 2 / 3 and report.per_class["happy"].recall == 2 / 3
    assert abs(report.macro_f1 - np.mean([0.5, 1.0, 2 / 3])) < 1e-9, "macro over classes that occur"


def _face_marks(angle_deg: float, centre=(200.0, 180.0), eye_distance=60.0) -> tuple[np.ndarray, np.ndarray]:
    """A grey image with dark eyes and mouth corners turned by ``angle_deg``, and those five landmarks."""
    turn = np.radians(angle_deg)
    across, down = np.array([np.cos(turn), np.sin(turn)]), np.array([-np.sin(turn), np.cos(turn)])
    half = eye_distance / 2
    offsets = [(-half, 0), (half, 0), (0, 0.6 * eye_distance), (-0.7 * half, eye_distance), (0.7 * half, eye_distance)]
    points = np.array([np.array(centre) + dx * across + dy * down for dx, dy in offsets])
    image = np.full((400, 400), 200, np.uint8)
    for index in (0, 1, 3, 4):
        cv2.circle(image, tuple(int(v) for v in points[index].round()), round(eye_distance / 10), 0, -1)
    return image, points


@pytest.mark.parametrize("angle", [-30, -12, 0, 20])
def test_aligned_crop_levels_the_eyes(angle):
    image, landmarks = _face_marks(angle)
    crop = aligned_crop(image, landmarks, size=96)
    dark = np.argwhere(crop < 100)
    upper = dark[dark[:, 0] < dark[:, 0].mean()]  # the eyes sit above the mouth corners
    left, right = upper[upper[:, 1] < 48], upper[upper[:, 1] >= 48]
    assert len(left) and len(right), "both eyes inside the crop"
    assert abs(left[:, 0].mean() - right[:, 0].mean()) < 1.5, "eyes on one row"
    assert abs((left[:, 1].mean() + right[:, 1].mean()) / 2 - 47.5) < 1.5, "centred between the eyes"


def test_aligned_crop_keeps_fer2013_framing_at_any_face_size():
    small_image, small = _face_marks(0, eye_distance=30)
    big_image, big = _face_marks(0, eye_distance=120)
    crop_small, crop_big = aligned_crop(small_image, small), aligned_crop(big_image, big)
    assert crop_small.shape == crop_big.shape == (48, 48)
    assert np.abs(crop_small.astype(int) - crop_big.astype(int)).mean() < 12, "same framing, whatever the size"
    eye_columns = np.argwhere(crop_big[:24] < 100)[:, 1]
    eye_span = eye_columns.max() - eye_columns.min()
    assert 48 / SIDE_PER_EYE_DISTANCE < eye_span + 6 < 48 / SIDE_PER_EYE_DISTANCE + 16


def test_face_crop_aligns_only_with_landmarks(photos_dir):
    from fer_engine.faces import detect_faces
    from fer_engine.image_io import read_image_file

    image = read_image_file(photos_dir / "obama.jpg")
    box = detect_faces(image)[0]
    plain = Box(box.x, box.y, box.w, box.h)
    assert np.array_equal(face_crop(image, plain), crop_face(image, plain))
    if box.landmarks is not None:
        assert face_crop(image, box).shape == (48, 48)
        assert not np.array_equal(face_crop(image, box), crop_face(image, box))


def test_aligned_crop_reads_only_the_face_region():
    image, landmarks = _face_marks(17, eye_distance=90)
    crop = aligned_crop(image, landmarks)
    scribbled = image.copy()
    scribbled[:, :20] = 0  # far from the face: the crop must not change
    scribbled[-20:] = 255
    assert np.array_equal(aligned_crop(scribbled, landmarks), crop)
    near = image.copy()
    near[175:185, 190:210] = 255  # between the eyes: it must
    assert not np.array_equal(aligned_crop(near, landmarks), crop)


@pytest.mark.parametrize("shift", [(-170, 0), (0, 175), (170, -175)])
@pytest.mark.parametrize("eye_distance", [30, 70])
def test_aligned_crop_cut_by_the_frame_repeats_the_edge_as_if_the_photo_went_on(shift, eye_distance):
    """A face half outside the photo: only the part inside is read, and the edge is repeated.

    Small faces are warped straight from the photo (identical crops); large ones are shrunk first,
    and shrinking the clipped part instead of the padded photo may move a grey level here and there."""
    image, landmarks = _face_marks(-8, eye_distance=eye_distance)
    moved = np.roll(image, shift, axis=(1, 0))
    moved_marks = landmarks + np.array(shift)
    pad = 300  # the same photo with the missing side filled by repeating its edge
    padded = cv2.copyMakeBorder(moved, pad, pad, pad, pad, cv2.BORDER_REPLICATE)
    clipped, whole = aligned_crop(moved, moved_marks), aligned_crop(padded, moved_marks + pad)
    if eye_distance == 30:
        assert np.array_equal(clipped, whole)
    else:
        assert np.abs(clipped.astype(int) - whole).mean() < 2
    assert (clipped < 100).any(), "the marks inside the photo are in the crop"


@pytest.mark.parametrize("colour", [False, True])
def test_box_crop_converts_only_what_it_crops(colour):
    rng = np.random.default_rng(3)
    image = rng.integers(0, 255, (120, 160, 3) if colour else (120, 160), dtype=np.uint8)
    box = Box(120, 80, 50, 50)  # runs past the right and bottom edges
    grey = cv2.cvtColor(image, cv2.COLOR_BGR2GRAY) if colour else image
    padded = cv2.copyMakeBorder(grey, 40, 40, 40, 40, cv2.BORDER_REPLICATE)
    assert np.array_equal(crop_face(image, box), crop_face(padded, Box(160, 120, 50, 50)))


def _area(image: np.ndarray, width: int, height: int) -> np.ndarray:
    return cv2.resize(image, (width, height), interpolation=cv2.INTER_AREA).astype(int)


def test_shrink_by_halving_matches_one_area_resize():
    from fer_engine.shrink import shrink, shrink_by

    noise = np.random.default_rng(1).integers(0, 255, (960, 1280, 3), dtype=np.uint8)
    assert np.abs(shrink(noise, 320, 240) - _area(noise, 320, 240)).max() <= 1, "4x: the same box average"
    image = cv2.GaussianBlur(noise, (0, 0), 3)  # photo-like: no detail finer than a few pixels
    odd = shrink(image, 300, 225)
    assert odd.shape == (225, 300, 3) and np.abs(odd - _area(image, 300, 225)).mean() < 1
    assert shrink_by(image, 1.0).shape == image.shape and shrink_by(image[:3, :3], 0.01).shape[:2] == (1, 1)
