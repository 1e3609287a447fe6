"""Face detection on the real photos, hard variants (close-ups, tilts), face-free images; the fallback."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from benchmarks.compare_detectors import EXPECTED
from fer_engine.detectors import yunet
from fer_engine.faces import AUTO, HAAR, YUNET, Box, DetectorSettings, detect_faces, resolve_backend
from fer_engine.image_io import read_image_file
from fer_engine.sample_images import textures


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_finds_each_clearly_visible_face_and_no_false_one(photos_dir, name):
    image = read_image_file(photos_dir / name)
    boxes = detect_faces(image)
    low, high = EXPECTED[name]
    assert low <= len(boxes) <= high, f"{name}: {len(boxes)} faces"
    for box in boxes:
        assert box.x >= 0 and box.y >= 0 and box.x + box.w <= image.shape[1] and box.y + box.h <= image.shape[0]
    assert [b.area for b in boxes] == sorted((b.area for b in boxes), reverse=True), "largest first"


@pytest.mark.parametrize("name", sorted(textures()))
def test_no_face_in_face_free_images(name):
    assert detect_faces(textures()[name]) == []


def test_two_frontal_faces_side_by_side(photos_dir):
    image = read_image_file(photos_dir / "obama_and_biden.jpg")
    first, second = detect_faces(image)[:2]
    assert abs(first.area - second.area) < 0.5 * first.area, "the two large faces come first"
    assert first.x + first.w <= second.x or second.x + second.w <= first.x, "side by side, not overlapping"


def test_boxes_map_back_to_original_pixels(photos_dir):
    image = read_image_file(photos_dir / "obama-1080p.jpg")  # 1920 wide: detection runs downscaled
    half = cv2.resize(image, None, fx=0.5, fy=0.5, interpolation=cv2.INTER_AREA)
    [big], [small] = detect_faces(image), detect_faces(half)
    assert abs(big.x - 2 * small.x) <= 12 and abs(big.w - 2 * small.w) <= 16


def test_rotated_photo_is_found_after_exif_rotation(photos_dir, tmp_path):
    from PIL import Image

    upright = Image.open(photos_dir / "obama.jpg")
    stored = upright.rotate(90, expand=True)  # stored on its side, EXIF says how to turn it back
    exif = stored.getexif()
    exif[274] = 6
    path = tmp_path / "sideways.jpg"
    stored.save(path, exif=exif)
    assert len(detect_faces(read_image_file(path))) == 1
    assert detect_faces(cv2.imread(str(path), cv2.IMREAD_IGNORE_ORIENTATION | cv2.IMREAD_COLOR)) == []


# The CNN detector (yunet) where its wheel is installed, the Haar fallback everywhere.

needs_yunet = pytest.mark.skipif(not yunet.available(), reason="the yuface wheel has no build for this platform")


def _cut_close_up(image, box: Box, cut: float):
    """A close-up: the face fills the frame and ``cut`` of its width is lost past the left and top edges."""
    x0, y0 = box.x + round(cut * box.w), box.y + round(cut * box.h)
    return image[y0 : box.y + box.h + box.h // 10, x0 : box.x + box.w + box.w // 10]


@needs_yunet
def test_default_detector_is_the_cnn_with_landmarks(photos_dir):
    assert resolve_backend(AUTO) == YUNET
    [face] = detect_faces(read_image_file(photos_dir / "obama.jpg"))
    left_eye, right_eye, nose, mouth_left, mouth_right = face.landmarks
    assert left_eye[0] < nose[0] < right_eye[0] and max(left_eye[1], right_eye[1]) < nose[1] < mouth_left[1]
    assert face.x < left_eye[0] and right_eye[0] < face.x + face.w, "landmarks in the photo's own pixels"


@needs_yunet
@pytest.mark.parametrize("name", ["obama.jpg", "biden.jpg", "img1.jpg"])
def test_close_up_cut_by_the_frame_is_found(photos_dir, name):
    image = read_image_file(photos_dir / name)
    [box] = detect_faces(image)
    close_up = _cut_close_up(image, box, 0.15)
    assert detect_faces(close_up, DetectorSettings(backend=HAAR, edge_padding=0)) == [], "what Haar alone misses"
    assert len(detect_faces(close_up)) == 1


@needs_yunet
@pytest.mark.parametrize("angle", [-30, 30])
def test_head_tilted_thirty_degrees_is_found(photos_dir, angle):
    image = read_image_file(photos_dir / "obama.jpg")
    centre = (image.shape[1] / 2, image.shape[0] / 2)
    turned = cv2.warpAffine(image, cv2.getRotationMatrix2D(centre, angle, 1.0), image.shape[1::-1],
                            borderMode=cv2.BORDER_REPLICATE)  # fmt: skip
    [face] = detect_faces(turned)
    assert face.landmarks is not None and min(face.w, face.h) > 200


def _hand_over_mouth(image, box: Box):
    covered = image.copy()
    x0, y0 = box.x + box.w // 4, box.y + (box.h * 3) // 5
    cv2.rectangle(covered, (x0, y0), (x0 + box.w // 2, box.y + box.h), (120, 150, 190), -1)  # a skin-toned patch
    return covered


def _darkened(image, box: Box):
    return np.clip(255 * (image / 255.0) ** 2.2 * 0.35, 0, 255).astype(np.uint8)


def _small_in_a_large_frame(image, box: Box):
    frame = cv2.GaussianBlur(np.random.default_rng(0).integers(0, 255, (960, 1280, 3), np.uint8), (0, 0), 4)
    face = cv2.resize(image, None, fx=90 / box.w, fy=90 / box.w, interpolation=cv2.INTER_AREA)
    h, w = min(face.shape[0], 500), min(face.shape[1], 700)
    frame[300 : 300 + h, 400 : 400 + w] = face[:h, :w]
    return frame


@needs_yunet
@pytest.mark.parametrize("variant", [_hand_over_mouth, _darkened, _small_in_a_large_frame])
@pytest.mark.parametrize("name", ["obama.jpg", "biden.jpg"])
def test_hard_variants_are_found(photos_dir, name, variant):
    image = read_image_file(photos_dir / name)
    [box] = detect_faces(image)
    assert len(detect_faces(variant(image, box))) == 1


@needs_yunet
@pytest.mark.parametrize("name", sorted(textures()))
def test_second_look_adds_no_face_to_face_free_images(name):
    assert detect_faces(textures()[name], DetectorSettings(edge_padding=0.5)) == []


def test_haar_fallback_when_the_wheel_is_missing(photos_dir, monkeypatch):
    monkeypatch.setattr(yunet, "yuface", None)
    assert resolve_backend(AUTO) == HAAR
    with pytest.raises(RuntimeError, match="yuface"):
        detect_faces(read_image_file(photos_dir / "obama.jpg"), DetectorSettings(backend=YUNET))
    [face] = detect_faces(read_image_file(photos_dir / "obama.jpg"))
    assert face.landmarks is None and face.w > 150


def test_unknown_backend_is_refused():
    with pytest.raises(ValueError, match="unknown face detector"):
        resolve_backend("mtcnn")
