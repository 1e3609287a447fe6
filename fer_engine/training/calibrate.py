"""Choose the decision rule: how far the served model leans against classes its training data is rich in.

A model trained where "neutral" and "happy" are common says them more often than a person's face
warrants.  The rule divides each probability by the class's training share raised to ``tau``
(logit adjustment; 0 = plain probabilities, 1 = fully prior-corrected) and renormalises.  One
number, chosen on val.npz and the dev sets (selection, never training): the ``tau`` with the
best mean accuracy over the four figures issue 7 sets floors for (val.npz against the FER+
majority and against the FER2013 label, each dev set), among those where neither dev set
answers "neutral" more than twice as often as it truly occurs.  ``python -m fer_engine calibrate`` writes it into the
model's ``metadata.json``, where ``EmotionClassifier`` picks it up.
"""

from __future__ import annotations

import json
import logging
from pathlib import Path

import numpy as np

from fer_engine.analyzer import Analyzer
from fer_engine.classifier import METADATA_FILE, apply_decision
from fer_engine.datasets import FaceSet, dev_sets, load_npz
from fer_engine.evaluate import load_folder
from fer_engine.labels import NEUTRAL, NUM_CLASSES, ferplus_majority, mixed_targets

log = logging.getLogger(__name__)

TAUS = tuple(round(t, 2) for t in np.arange(0.0, 1.51, 0.1))
VAL = "val_ferplus"
VAL_FER2013 = "val_fer2013"
#: Most "neutral" answers allowed, as a multiple of the set's true neutral share.
MAX_NEUTRAL_RATIO = 2.0


def training_prior(metadata: dict) -> np.ndarray:
    """Each class's share of the training targets the model saw (FER2013 mixed labels + AffectNet)."""
    settings, data = metadata["settings"], metadata["data"]
    fer = load_npz(data["train"]["path"])
    mass = mixed_targets(fer.y, fer.votes, settings["ferplus_weight"]).sum(axis=0)
    if data.get("affectnet"):
        with np.load(data["affectnet"]["path"]) as extra:
            keep = ~extra["in_fer2013"] if "in_fer2013" in extra.files else slice(None)
            mass = mass + np.bincount(extra["y"][keep], minlength=NUM_CLASSES)
    return (mass / mass.sum()).astype(np.float64)


def decision_weights(prior: np.ndarray, tau: float) -> np.ndarray:
    weights = prior ** (-tau)
    return weights / weights.max()


def _views(analyzer: Analyzer, crops: np.ndarray) -> list[np.ndarray]:
    """Undecided probabilities of the crops, and of their mirror images when the analyzer flips."""
    views = [analyzer.classifier.predict(crops, decide=False)]
    if analyzer.flip:
        views.append(analyzer.classifier.predict(crops[:, :, ::-1], decide=False))
    return views


def accuracy_and_neutral(probs: np.ndarray, truth: np.ndarray, missed: int) -> tuple[float, float]:
    """Accuracy over all images (missed faces count as wrong) and the share of "neutral" answers."""
    pred = probs.argmax(axis=1)
    usable = truth >= 0
    accuracy = float((pred[usable] == truth[usable]).sum() / (usable.sum() + missed))
    return accuracy, float((pred == NEUTRAL).mean())


def selection_sets(
    analyzer: Analyzer, val_path: str, per_class: int | None = None, val_limit: int | None = None
) -> dict[str, tuple[FaceSet, np.ndarray, int]]:
    """The four sets models and rules are chosen on: name -> (faces, true labels, photos with no face).

    val.npz against the FER+ majority and against the FER2013 label (the same faces; ``val_limit``:
    its first N only), then each dev set, cut by ``analyzer`` as served (``per_class``: its first N
    photos of each class only)."""
    val = load_npz(val_path, val_limit)
    sets = {VAL: (val, ferplus_majority(val.votes), 0), VAL_FER2013: (val, val.y, 0)}
    for folder, crops in dev_sets():
        loaded = load_folder(Path(folder), analyzer, crops=crops, per_class=per_class)
        sets[Path(folder).name] = (loaded.faces, loaded.faces.y, loaded.no_face + loaded.unreadable)
    return sets


def calibrate(
    model_dir: Path, val_path: str | None = None, per_class: int | None = None, flip: bool | None = None
) -> dict:
    """Pick ``tau`` for the model in ``model_dir`` served with ``flip`` (None: as it is served now),
    write the rule and the serving mode into its metadata, return the rule."""
    analyzer = Analyzer(model_dir, flip=flip)
    metadata = json.loads((model_dir / METADATA_FILE).read_text())
    prior = training_prior(metadata)
    sets = selection_sets(analyzer, val_path or metadata["data"]["validation"]["path"], per_class)
    # Each view (the face, and its mirror image when the analyzer flips) as served: the rule acts per view.
    views = {name: _views(analyzer, faces.x) for name, (faces, *_) in sets.items() if name != VAL_FER2013}
    views[VAL_FER2013] = views[VAL]
    true_neutral = {name: float((truth == NEUTRAL).mean()) for name, (_, truth, _) in sets.items()}

    table = []
    for tau in TAUS:
        weights = decision_weights(prior, tau)
        row = {"tau": tau}
        for name, (_, truth, missed) in sets.items():
            served = np.mean([apply_decision(view, weights) for view in views[name]], axis=0)
            row[f"{name}_accuracy"], row[f"{name}_neutral_share"] = accuracy_and_neutral(served, truth, missed)
        row["mean_accuracy"] = float(np.mean([row[f"{name}_accuracy"] for name in sets]))
        row["neutral_ok"] = all(
            row[f"{name}_neutral_share"] <= MAX_NEUTRAL_RATIO * true_neutral[name]
            for name in sets
            if name not in (VAL, VAL_FER2013)
        )
        table.append(row)
    allowed = [row for row in table if row["neutral_ok"]]
    best = max(allowed or table, key=lambda row: row["mean_accuracy"])
    decision = {
        "rule": "p_i / prior_i^tau, renormalised (logit adjustment)",
        "tau": best["tau"],
        "prior": prior.round(4).tolist(),
        "class_weights": decision_weights(prior, best["tau"]).round(4).tolist(),
        "chosen_on": {name: len(faces) for name, (faces, *_) in sets.items()},
        "true_neutral_share": true_neutral,
        "neutral_limit_met": bool(allowed),
        "table": table,
    }
    metadata["decision"] = decision
    metadata["serving"] = {"mirror": analyzer.flip}
    (model_dir / METADATA_FILE).write_text(json.dumps(metadata, indent=1))
    return decision


def format_table(decision: dict) -> str:
    names = list(decision["chosen_on"])
    header = f"{'tau':>5} " + " ".join(f"{name[:14]:>14} {'neutral':>7}" for name in names) + f" {'mean':>6}"
    lines = [header]
    for row in decision["table"]:
        cells = " ".join(f"{row[f'{n}_accuracy']:>14.2%} {row[f'{n}_neutral_share']:>7.1%}" for n in names)
        mark = " <- chosen" if row["tau"] == decision["tau"] else ("" if row["neutral_ok"] else " (too neutral)")
        lines.append(f"{row['tau']:>5.2f} {cells} {row['mean_accuracy']:>6.2%}{mark}")
    if not decision["neutral_limit_met"]:
        lines.append(f"no tau keeps every dev set under {MAX_NEUTRAL_RATIO:g}x its true neutral share: "
                     "the best mean accuracy was chosen")  # fmt: skip
    return "\n".join(lines)
