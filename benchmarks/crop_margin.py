"""Which crop margin around the detector's box frames faces the way FER2013's crops do?

Takes training crops (not validation: this picks a preprocessing setting), enlarges each one
into a bigger canvas, runs the face detector on it, crops the detected box with several
margins, and compares the classifier's agreement with the FER+ majority against classifying
the original crop directly.

Usage: python benchmarks/crop_margin.py [--images 2000]
"""

from __future__ import annotations

import argparse

import cv2
import numpy as np

from fer_engine.analyzer import Analyzer
from fer_engine.datasets import data_dir, load_npz
from fer_engine.faces import detect_faces
from fer_engine.labels import ferplus_majority
from fer_engine.preprocess import crop_face

MARGINS = (0.0, 0.05, 0.1, 0.15, 0.2)
SCALE = 4  # 48 px crops become 192 px faces
PAD = 64  # grey border so the face does not fill the whole canvas


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--images", type=int, default=2000)
    args = parser.parse_args()
    faces = load_npz(data_dir() / "fer2013" / "train.npz", limit=args.images)
    truth = ferplus_majority(faces.votes)
    analyzer = Analyzer(flip=False)
    crops = {m: [] for m in MARGINS}
    found = []
    for i, face in enumerate(faces.x):
        big = cv2.resize(face, None, fx=SCALE, fy=SCALE, interpolation=cv2.INTER_CUBIC)
        canvas = cv2.copyMakeBorder(big, PAD, PAD, PAD, PAD, cv2.BORDER_CONSTANT, value=128)
        boxes = detect_faces(canvas)
        if not boxes:
            continue
        found.append(i)
        for margin in MARGINS:
            crops[margin].append(crop_face(canvas, boxes[0], margin=margin))
    found = np.array(found)
    usable = truth[found] >= 0
    direct = analyzer.classify_crops(faces.x[found]).argmax(1)
    print(f"detector found a face in {len(found)}/{len(faces)} enlarged crops")
    print(f"direct crop: FER+ accuracy {(direct[usable] == truth[found][usable]).mean():.2%}")
    for margin in MARGINS:
        pred = analyzer.classify_crops(np.stack(crops[margin])).argmax(1)
        acc = (pred[usable] == truth[found][usable]).mean()
        agree = (pred == direct).mean()
        print(f"margin {margin:.2f}: FER+ accuracy {acc:.2%}, agrees with the direct crop on {agree:.1%}")


if __name__ == "__main__":
    main()
