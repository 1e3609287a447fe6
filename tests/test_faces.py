"""Face detection on the real photos, on face-free images, and across image sizes."""

from __future__ import annotations

import cv2
import pytest

from benchmarks.compare_detectors import EXPECTED
from fer_engine.faces import detect_faces
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
