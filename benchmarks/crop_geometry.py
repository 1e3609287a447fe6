"""Fit the aligned crop's geometry to FER2013's own framing, and measure what alignment gives.

FER2013's 48x48 crops are the framing the CNN learned.  Each training crop (training, not
validation: this picks a preprocessing setting) is enlarged onto a grey canvas where its true
square is known; the landmark detector runs on it, and the crop side and centre are expressed
in landmark units (eye distance, eye-to-mouth distance).  Medians give the constants in
``fer_engine/preprocess.py``.  Then, on the same faces and on copies tilted by up to 30 degrees,
the classifier's FER+ accuracy is compared for: the original crop, the detector's box with a
margin, and the aligned crop.  Last, the same comparison on the posed dev set (whole photos,
upright and turned by 20 degrees), with the Haar cascade's box crop beside it.

Usage: python benchmarks/crop_geometry.py [--images 2000] [--model DIR]
"""

from __future__ import annotations

import argparse
from pathlib import Path

import cv2
import numpy as np

from fer_engine.analyzer import Analyzer
from fer_engine.datasets import data_dir, load_npz
from fer_engine.faces import HAAR, YUNET, DetectorSettings, detect_faces
from fer_engine.image_io import read_image_file
from fer_engine.labels import EMOTIONS, ferplus_majority
from fer_engine.preprocess import aligned_crop, crop_face

SCALE = 4  # 48 px crops become 192 px faces
PAD = 96  # grey border so the face does not fill the whole canvas
TILTS = (0, 15, 30)


def _canvas(face: np.ndarray, tilt: float) -> np.ndarray:
    """The enlarged face on a canvas, turned by ``tilt`` degrees."""
    big = cv2.resize(face, None, fx=SCALE, fy=SCALE, interpolation=cv2.INTER_CUBIC)
    canvas = cv2.copyMakeBorder(big, PAD, PAD, PAD, PAD, cv2.BORDER_REPLICATE)
    return _turned(canvas, tilt)


def fit_geometry(faces: np.ndarray, detector: DetectorSettings) -> tuple[float, float, float]:
    """Median (side / eye distance, side / eye-to-mouth distance, centre offset / side) over the faces."""
    per_eyes, per_mouth, below = [], [], []
    side, centre = 48 * SCALE, np.array([PAD + 24 * SCALE, PAD + 24 * SCALE], np.float64)
    for face in faces:
        canvas = _canvas(face, 0)
        boxes = [b for b in detect_faces(canvas, detector) if b.landmarks is not None]
        if not boxes:
            continue
        points = np.asarray(boxes[0].landmarks)
        eyes, mouth = (points[0] + points[1]) / 2, (points[3] + points[4]) / 2
        across = (points[1] - points[0]) / np.linalg.norm(points[1] - points[0])
        down = np.array([-across[1], across[0]])
        per_eyes.append(side / np.linalg.norm(points[1] - points[0]))
        per_mouth.append(side / np.linalg.norm(mouth - eyes))
        below.append(float((centre - (eyes + mouth) / 2) @ down) / side)
    return float(np.median(per_eyes)), float(np.median(per_mouth)), float(np.median(below))


def posed_comparison(analyzer: Analyzer, folder: Path, step: int) -> None:
    """Accuracy on every ``step``-th posed photo: Haar box crop, CNN-detector box crop, aligned crop."""
    haar_detector, cnn_detector = DetectorSettings(backend=HAAR), DetectorSettings(backend=YUNET)
    paths = sorted(folder.glob("*/*.jpg"))[::step]
    print(f"\nposed_tw, {len(paths)} photos (a photo where a detector finds no face counts as wrong for it)")
    print(f"{'turn':>4} {'Haar box':>9} {'CNN box':>8} {'aligned':>8}")
    for turn in (0, 20, -20):
        hits, total = np.zeros(3), 0
        for path in paths:
            image = _turned(read_image_file(path), turn)
            truth = EMOTIONS.index(path.parent.name)
            total += 1
            haar_boxes, cnn_boxes = detect_faces(image, haar_detector), detect_faces(image, cnn_detector)
            crops = [
                crop_face(image, haar_boxes[0]) if haar_boxes else None,
                crop_face(image, cnn_boxes[0]) if cnn_boxes else None,
                aligned_crop(image, np.asarray(cnn_boxes[0].landmarks)) if cnn_boxes else None,
            ]
            for i, crop in enumerate(crops):
                if crop is not None:
                    hits[i] += analyzer.classify_crops(crop[None]).argmax() == truth
        print(f"{turn:>4} " + " ".join(f"{h / total:>8.2%}" for h in hits))


def _turned(image: np.ndarray, degrees: float) -> np.ndarray:
    """The image turned about its centre, edges replicated."""
    centre = (image.shape[1] / 2, image.shape[0] / 2)
    rotation = cv2.getRotationMatrix2D(centre, degrees, 1.0)
    return cv2.warpAffine(image, rotation, image.shape[1::-1], borderMode=cv2.BORDER_REPLICATE)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--images", type=int, default=2000)
    parser.add_argument("--model", type=Path, help="model folder (default: the served one)")
    parser.add_argument("--posed-step", type=int, default=2, help="use every N-th posed photo")
    args = parser.parse_args()
    faces = load_npz(data_dir() / "fer2013" / "train.npz", limit=args.images)
    truth = ferplus_majority(faces.votes)
    detector = DetectorSettings(backend=YUNET, edge_padding=0)
    geometry = fit_geometry(faces.x, detector)
    per_eyes, per_mouth, below = geometry
    print(f"fitted: side = {per_eyes:.3f} x eye distance | {per_mouth:.3f} x eye-to-mouth; "
          f"centre {below:.3f} x side below the eyes-mouth midpoint")  # fmt: skip

    analyzer = Analyzer(args.model, flip=False)
    direct = analyzer.classify_crops(faces.x).argmax(1)
    usable = truth >= 0
    print(f"original crops: FER+ accuracy {(direct[usable] == truth[usable]).mean():.2%}")
    print(f"{'tilt':>4} {'found':>6} {'box + 5% margin':>16} {'aligned':>8}")
    for tilt in TILTS:
        box_crops, aligned, found = [], [], []
        for i, face in enumerate(faces.x):
            canvas = _canvas(face, tilt)
            boxes = [b for b in detect_faces(canvas, detector) if b.landmarks is not None]
            if not boxes:
                continue
            found.append(i)
            box_crops.append(crop_face(canvas, boxes[0]))
            aligned.append(aligned_crop(canvas, np.asarray(boxes[0].landmarks), geometry=geometry))
        found = np.array(found)
        keep = usable[found]
        scores = []
        for crops in (box_crops, aligned):
            pred = analyzer.classify_crops(np.stack(crops)).argmax(1)
            scores.append((pred[keep] == truth[found][keep]).mean())
        print(f"{tilt:>4} {len(found):>6} {scores[0]:>16.2%} {scores[1]:>8.2%}")
    posed_comparison(Analyzer(args.model), data_dir() / "dev" / "posed_tw", args.posed_step)


if __name__ == "__main__":
    main()
