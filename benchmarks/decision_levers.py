"""Levers that act at decision time, with the trained weights untouched, measured on the selection sets.

Issue 7 names two: test-time crops (classify each face several times, slightly shifted, zoomed
or turned, and average) and a decision rule calibrated for balanced recall.  The served model
already averages the face and its mirror image and divides by the training prior to the power
``tau`` (``fer_engine/training/calibrate.py``); this script asks whether more of either helps.

1. **Test-time crops**: each view below is a small warp of the served 48x48 crop (the same for
   val.npz, whose faces exist only as crops, and for the dev sets), mirrored as served; the
   table gives the four selection accuracies for the face alone and for each set of views.
2. **Per-class biases**: seven numbers, one per class, multiplied into the probabilities (the
   served rule is the special case ``prior ** -tau``).  Seven free numbers chosen on the sets
   that report them would flatter themselves, so each set is split in two halves at random: the
   biases are fitted (coordinate search) on one half and scored on the other, for two goals,
   plain accuracy and balanced recall (the mean of the per-class recalls).

Usage: python benchmarks/decision_levers.py [--model DIR] [--seed 0]
"""

from __future__ import annotations

import argparse
from collections.abc import Callable

import cv2
import numpy as np

from fer_engine.analyzer import Analyzer
from fer_engine.datasets import data_dir
from fer_engine.labels import EMOTIONS, NUM_CLASSES
from fer_engine.metrics import score
from fer_engine.preprocess import INPUT_SIZE
from fer_engine.training.calibrate import VAL, VAL_FER2013, accuracy_and_neutral, selection_sets

#: Test-time views: name -> (zoom, shift right in px, shift down in px, turn in degrees).
VIEWS: dict[str, tuple[float, float, float, float]] = {
    "face": (1.0, 0, 0, 0),
    "zoom in 8%": (1.08, 0, 0, 0),
    "zoom out 8%": (0.92, 0, 0, 0),
    "zoom in 15%": (1.15, 0, 0, 0),
    "right 2 px": (1.0, 2, 0, 0),
    "left 2 px": (1.0, -2, 0, 0),
    "down 2 px": (1.0, 0, 2, 0),
    "up 2 px": (1.0, 0, -2, 0),
    "turn +8": (1.0, 0, 0, 8),
    "turn -8": (1.0, 0, 0, -8),
}
SHIFTS = ["right 2 px", "left 2 px", "down 2 px", "up 2 px"]
#: The sets of views compared: the face alone, each view with it, and groups of views.
VIEW_SETS: dict[str, list[str]] = {
    "face": ["face"],
    **{f"face + {view}": ["face", view] for view in VIEWS if view != "face"},
    "face + both 8% zooms": ["face", "zoom in 8%", "zoom out 8%"],
    "face + four 2 px shifts": ["face", *SHIFTS],
    "face + both turns": ["face", "turn +8", "turn -8"],
    "all ten views": list(VIEWS),
}
#: Candidate values of one class's log-bias in the coordinate search, and the passes over the classes.
BIAS_GRID = np.linspace(-1.5, 1.5, 31)
BIAS_ROUNDS = 4


def warp(crops: np.ndarray, zoom: float, dx: float, dy: float, turn: float) -> np.ndarray:
    """Each (48, 48) crop zoomed, shifted and turned about its centre, the border repeated."""
    centre = (INPUT_SIZE - 1) / 2
    matrix = cv2.getRotationMatrix2D((centre, centre), turn, zoom)
    matrix[:, 2] += (dx, dy)
    size = (INPUT_SIZE, INPUT_SIZE)
    return np.stack([cv2.warpAffine(c, matrix, size, borderMode=cv2.BORDER_REPLICATE) for c in crops])


def accuracy(probs: np.ndarray, truth: np.ndarray) -> float:
    """The share of labelled faces whose top class is the true one."""
    return score(truth, probs.argmax(axis=1), "").accuracy


def balanced_recall(probs: np.ndarray, truth: np.ndarray) -> float:
    """The mean per-class recall (``Report.balanced_recall``)."""
    return score(truth, probs.argmax(axis=1), "").balanced_recall


Goal = Callable[[np.ndarray, np.ndarray], float]


def fit_class_bias(sets: list[tuple[np.ndarray, np.ndarray]], goal: Goal) -> np.ndarray:
    """Log-biases (one per class) that maximise the mean ``goal`` over ``sets`` of (probabilities,
    truth), by coordinate search over ``BIAS_GRID``: one class at a time, ``BIAS_ROUNDS`` passes."""
    bias = np.zeros(NUM_CLASSES)

    def mean_score(candidate: np.ndarray) -> float:
        return float(np.mean([goal(probs * np.exp(candidate), truth) for probs, truth in sets]))

    for _ in range(BIAS_ROUNDS):
        for cls in range(NUM_CLASSES):
            trials = [np.where(np.arange(NUM_CLASSES) == cls, value, bias) for value in BIAS_GRID]
            bias = max(trials, key=mean_score)
    return bias


def _served_probs(analyzer: Analyzer, crops: np.ndarray) -> dict[str, np.ndarray]:
    """Undecided, mirrored probabilities of every view of ``crops``."""
    predict = analyzer.classifier.predict
    return {name: predict(warp(crops, *view), flip=True, decide=False) for name, view in VIEWS.items()}


def _row(label: str, cells: list[tuple[float, float]]) -> str:
    body = " ".join(f"{acc:>8.2%} {neutral:>6.1%}" for acc, neutral in cells)
    return f"{label:<36} {body} {np.mean([acc for acc, _ in cells]):>7.2%}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--model", default=None, help="model folder (default: the served weights/)")
    parser.add_argument("--seed", type=int, default=0, help="seed of the random halves for the bias fit")
    args = parser.parse_args()

    analyzer = Analyzer(args.model)
    sets = selection_sets(analyzer, str(data_dir() / "fer2013" / "val.npz"))
    # Faces without a FER+ majority have no label (-1): they count in neither lever's scores.
    views = {name: _served_probs(analyzer, faces.x) for name, (faces, *_) in sets.items() if name != VAL_FER2013}
    views[VAL_FER2013] = views[VAL]
    labelled = {name: truth >= 0 for name, (_, truth, _) in sets.items()}
    names = list(sets)
    header = " ".join(f"{name[:15]:>15}" for name in names)
    print("Test-time crops: accuracy and share of 'neutral' answers (every view also mirrored)")
    print(f"{'views':<36} {header}    mean")
    for label, view_set in VIEW_SETS.items():
        cells = [
            accuracy_and_neutral(np.mean([views[name][view] for view in view_set], axis=0), truth, missed)
            for name, (_, truth, missed) in sets.items()
        ]
        print(_row(f"{label} ({2 * len(view_set)} passes)", cells))

    rng = np.random.default_rng(args.seed)
    halves = {name: rng.random(len(truth)) < 0.5 for name, (_, truth, _) in sets.items()}
    halves[VAL_FER2013] = halves[VAL]  # the same faces, so the same halves

    def split(name: str, fit_half: bool) -> tuple[np.ndarray, np.ndarray]:
        chosen = labelled[name] & (halves[name] if fit_half else ~halves[name])
        return views[name]["face"][chosen], sets[name][1][chosen]

    print(f"\nPer-class biases fitted on one half of every set, scored on the other\n{'':<28}"
          + " ".join(f"{name[:15]:>15}" for name in names) + "    mean")  # fmt: skip
    for goal_name, goal in (("accuracy", accuracy), ("balanced recall", balanced_recall)):
        bias = fit_class_bias([split(name, True) for name in names], goal)
        factors = " ".join(f"{e} {np.exp(b):.2f}" for e, b in zip(EMOTIONS, bias, strict=True))
        print(f"goal {goal_name}: bias x {factors}")
        for label, candidate in (("no bias", np.zeros(NUM_CLASSES)), ("fitted bias", bias)):
            for half, fit_half in (("fit half", True), ("held-out half", False)):
                values = [goal(p * np.exp(candidate), t) for p, t in (split(name, fit_half) for name in names)]
                cells = " ".join(f"{v:>15.2%}" for v in values)
                print(f"  {label:<12} {half:<13}{cells} {np.mean(values):>7.2%}")


if __name__ == "__main__":
    main()
