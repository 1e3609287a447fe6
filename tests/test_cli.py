"""`python -m fer_engine analyze / video / evaluate` on real files, as a user would run them."""

from __future__ import annotations

import csv
import json
import shutil
import subprocess
import sys
from pathlib import Path

import cv2
import numpy as np

from fer_engine import EMOTIONS
from fer_engine.sample_images import textures

ROOT = Path(__file__).resolve().parents[1]


def _cli(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "fer_engine", *args], cwd=ROOT, capture_output=True, text=True)


def test_analyze_folder_writes_table_csv_json_and_annotated_copies(photos_dir, tmp_path):
    folder = tmp_path / "in"
    folder.mkdir()
    for name in ("two_people.jpg", "obama.jpg"):
        shutil.copy(photos_dir / name, folder / name)
    (folder / "broken.jpg").write_bytes(b"\xff\xd8 not really a jpeg")
    out_csv, out_json, annotated = tmp_path / "r.csv", tmp_path / "r.json", tmp_path / "ann"
    result = _cli("analyze", str(folder), "--csv", str(out_csv), "--json", str(out_json), "--annotate", str(annotated))
    assert result.returncode == 0, result.stderr[-2000:]
    assert "two_people.jpg" in result.stdout and "broken.jpg" in result.stdout
    rows = list(csv.DictReader(out_csv.open()))
    names = [Path(r["image"]).name for r in rows]
    assert names == ["broken.jpg", "obama.jpg", "two_people.jpg", "two_people.jpg"]
    assert "not an image format" in rows[0]["status"] and rows[1]["status"] == "ok"
    assert abs(sum(float(rows[1][e]) for e in EMOTIONS) - 1) < 0.01
    payload = json.loads(out_json.read_text())
    assert len(payload) == 3 and len(payload[2]["faces"]) == 2
    written = cv2.imread(str(annotated / "two_people_annotated.jpg"))
    assert written.shape[:2] == (661, 1126)


def test_video_is_annotated_and_timed(photos_dir, tmp_path):
    frame = cv2.resize(cv2.imread(str(photos_dir / "obama.jpg")), (480, 600))
    clip = tmp_path / "clip.mp4"
    writer = cv2.VideoWriter(str(clip), cv2.VideoWriter_fourcc(*"mp4v"), 10, (480, 600))
    for i in range(12):
        writer.write(np.roll(frame, i * 3, axis=1))
    writer.release()
    out = tmp_path / "annotated.mp4"
    result = _cli("video", str(clip), "--out", str(out))
    assert result.returncode == 0, result.stderr[-2000:]
    assert "12 frames" in result.stdout and "frames/s" in result.stdout
    assert "12/12 frames" in result.stderr, "progress bar"
    capture = cv2.VideoCapture(str(out))
    assert int(capture.get(cv2.CAP_PROP_FRAME_COUNT)) == 12


def test_video_with_a_missing_source_fails_cleanly(tmp_path):
    result = _cli("video", str(tmp_path / "nope.mp4"))
    assert result.returncode == 2 and "cannot open video source" in result.stderr


def test_evaluate_a_folder_of_photos_per_class(photos_dir, tmp_path):
    data = tmp_path / "photos_by_class"
    for label, names in {"Happiness": ["obama.jpg", "biden.jpg"], "neutral": ["img1.jpg"], "calm": []}.items():
        (data / label).mkdir(parents=True)
        for name in names:
            shutil.copy(photos_dir / name, data / label / name)
    cv2.imwrite(str(data / "neutral" / "wall.png"), textures()["checkerboard"])  # no face to find
    (data / "contempt").mkdir()
    out = tmp_path / "eval"
    result = _cli("evaluate", str(data), "--out", str(out), "--no-feature-maps")
    assert result.returncode == 0, result.stderr[-2000:]
    report = json.loads((out / "report.json").read_text())
    assert report["images"] == 3 and report["photos_without_face"] == 1
    assert report["skipped_folders"] == ["contempt"]
    assert sum(map(sum, report["reports"]["labels"]["confusion"])) == 3
    assert 0 <= report["accuracy_over_all_photos"] <= 0.75
    assert (out / "confusion_labels.png").exists()


def test_evaluate_accepts_other_npz_layouts(val_npz, tmp_path):
    """Other datasets: 64x64 float crops in [0, 1] with a channel axis, no FER+ votes."""
    data = np.load(val_npz)
    index = np.arange(0, len(data["y"]), 90)
    crops = np.stack([cv2.resize(c, (64, 64)) for c in data["x"][index]]).astype(np.float32)[..., None] / 255
    path = tmp_path / "other.npz"
    np.savez(path, x=crops, y=data["y"][index])
    out = tmp_path / "eval"
    result = _cli("evaluate", str(path), "--out", str(out), "--no-feature-maps")
    assert result.returncode == 0, result.stderr[-2000:]
    report = json.loads((out / "report.json").read_text())
    assert list(report["reports"]) == ["labels"] and report["images"] == len(index)
    assert "labels (y)" in result.stdout


def test_evaluate_rejects_an_npz_without_labels(tmp_path):
    path = tmp_path / "bad.npz"
    np.savez(path, x=np.zeros((3, 48, 48), np.uint8))
    result = _cli("evaluate", str(path), "--out", str(tmp_path / "e"))
    assert result.returncode == 2 and "missing array(s) ['y']" in result.stderr


def test_folder_evaluation_cuts_detector_crops_or_whole_crops(photos_dir, tmp_path, analyzer):
    from fer_engine.evaluate import load_folder, whole_image_crop
    from fer_engine.image_io import read_image_file

    names = ["obama.jpg", "biden.jpg", "img1.jpg"]
    (tmp_path / "happy").mkdir()
    for name in names:
        shutil.copy(photos_dir / name, tmp_path / "happy" / name)
    images = [read_image_file(photos_dir / name) for name in sorted(names)]
    detected = load_folder(tmp_path, analyzer).faces.x
    whole = load_folder(tmp_path, analyzer, crops=True).faces.x
    for image, face, crop in zip(images, detected, whole, strict=True):
        assert np.array_equal(face, analyzer.face_crops(image)[1][0]), "every photo's face, not only the first"
        assert np.array_equal(crop, whole_image_crop(image))
