"""The Analyzer API: result shape and order, one batch per photo, flip averaging, quality verdicts."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from fer_engine import EMOTIONS, Analyzer
from fer_engine.faces import Box
from fer_engine.quality import TOO_BLURRED, TOO_DARK, TOO_SMALL, assess


def test_result_per_face_with_seven_probabilities_in_order(analyzer, photos_dir):
    analysis = analyzer.analyze_bytes((photos_dir / "two_people.jpg").read_bytes())
    assert (analysis.width, analysis.height) == (1126, 661)
    assert len(analysis.faces) == 2
    for face in analysis.faces:
        assert face.judged and face.quality is None
        assert len(face.probabilities) == len(EMOTIONS) == 7
        assert abs(sum(face.probabilities) - 1) < 1e-3
        top = face.top(3)
        assert [share for _, share in top] == sorted((share for _, share in top), reverse=True)
        assert top[0] == (face.emotion, max(face.probabilities))
        assert dict(face.as_dict()["probabilities"]).keys() == set(EMOTIONS)
        assert top[0][1] == pytest.approx(face.probabilities[EMOTIONS.index(top[0][0])])


def test_all_faces_go_through_the_cnn_in_one_batch(analyzer, photos_dir, monkeypatch):
    calls = []
    original = analyzer.classifier.predict

    def counting(crops, flip=False):
        calls.append(len(crops))
        return original(crops, flip)

    monkeypatch.setattr(analyzer.classifier, "predict", counting)
    analyzer.analyze_file(photos_dir / "kit_with_rose.jpg")
    assert calls == [2]


def test_no_face_gives_empty_result(analyzer):
    from fer_engine.sample_images import screenshot

    assert analyzer.analyze_image(screenshot()).faces == []


def test_flip_averages_the_mirrored_face(analyzer, val_npz):
    crops = np.load(val_npz)["x"][::500]
    single = analyzer.classifier.predict(crops)
    mirrored = analyzer.classifier.predict(crops[:, :, ::-1])
    flipped = Analyzer(flip=True, classifier=analyzer.classifier).classify_crops(crops)
    assert np.allclose(flipped, (single + mirrored) / 2, atol=1e-6)
    assert np.allclose(Analyzer(flip=False, classifier=analyzer.classifier).classify_crops(crops), single)


def test_batch_and_single_agree(analyzer, val_npz):
    crops = np.load(val_npz)["x"][::300]
    together = analyzer.classifier.predict(crops)
    alone = np.concatenate([analyzer.classifier.predict(c[None]) for c in crops])
    assert np.allclose(together, alone, atol=1e-4)


def test_quality_verdicts(val_npz):
    face = np.load(val_npz)["x"][1000]
    assert assess(Box(0, 0, 200, 200), face) is None
    assert assess(Box(0, 0, 18, 18), face) == TOO_SMALL
    assert assess(Box(0, 0, 200, 200), (face * 0.15).astype(np.uint8)) == TOO_DARK
    assert assess(Box(0, 0, 200, 200), cv2.GaussianBlur(face, (0, 0), 2.5)) == TOO_BLURRED


def test_blurred_face_is_reported_not_guessed(analyzer, photos_dir):
    image = cv2.imread(str(photos_dir / "obama.jpg"))
    blurred = cv2.GaussianBlur(image, (0, 0), 16)  # a face ~270 px wide: sigma 16 here is ~3 px at 48x48
    faces = analyzer.analyze_image(blurred).faces
    assert faces, "the detector still sees a face shape"
    assert all(not f.judged and f.quality == TOO_BLURRED and f.top() == [] for f in faces)
    assert faces[0].quality_message and "blurred" in faces[0].quality_message


def test_dark_face_is_reported(analyzer, photos_dir):
    image = cv2.imread(str(photos_dir / "obama.jpg"))
    faces = analyzer.analyze_image((image * 0.12).astype(np.uint8)).faces
    assert all(f.quality == TOO_DARK for f in faces)


def test_analyzer_is_thread_safe(analyzer, photos_dir):
    from concurrent.futures import ThreadPoolExecutor

    data = [(photos_dir / name).read_bytes() for name in ("two_people.jpg", "obama.jpg", "kit_with_rose.jpg")] * 6
    expected = [len(analyzer.analyze_bytes(d).faces) for d in data[:3]] * 6
    with ThreadPoolExecutor(max_workers=6) as pool:
        counts = [len(a.faces) for a in pool.map(analyzer.analyze_bytes, data)]
    assert counts == expected


def test_shares_add_up_to_one(analyzer, val_npz):
    probs = analyzer.classify_crops(np.load(val_npz)["x"][::250])
    assert np.allclose(probs.sum(axis=1), 1, atol=1e-5) and (probs >= 0).all()
