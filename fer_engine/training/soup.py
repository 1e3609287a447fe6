"""Average the weights of several models fine-tuned from one starting model (a "model soup").

Models fine-tuned from the same weights stay in one basin of the loss, so the mean of their
weights is itself a working model, served at the cost of one (Wortsman et al., "Model soups",
ICML 2022, report better accuracy under distribution shift than any ingredient).  Models from
different random starts do not average into a working model; the validation accuracy that the
export logs and records shows it at once.  Here the ingredients are fine-tunes of one model with
different label mixes: each trades FER+ accuracy against faces unlike FER2013 differently, and
the soup sits between them.

``python -m fer_engine soup runs/a/model runs/b/model --out runs/soup/model`` writes a model
folder like ``train`` does (Keras weights, TFLite, metadata); run ``calibrate`` on it next.
With ``--greedy`` the folders are candidates: each is scored alone, and in that order (best first)
each joins the soup only if the soup's score does not fall (the "greedy soup" of the paper);
``--search forward`` instead adds, round by round, the candidate whose soup scores best.  The
score is the mean of the four accuracies issue 7 sets floors for (``calibrate.selection_sets``),
mirrored, plain probabilities: choosing, never training.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from pathlib import Path

import numpy as np

from fer_engine.classifier import KERAS_FILE, METADATA_FILE
from fer_engine.datasets import load_npz
from fer_engine.training.model import load_keras_model, mean_weights

log = logging.getLogger(__name__)

#: Metadata of one run that describes the run, not the averaged model; kept per ingredient instead.
RUN_KEYS = (
    "history", "best_epoch", "epochs", "class_weights", "train_seconds", "exported_weights", "init",
    "validation", "tflite_check", "decision", "serving",
)  # fmt: skip


def _ingredient(folder: Path, metadata: dict) -> dict:
    """What the soup records about one ingredient: where it is and how it was trained."""
    settings = metadata["settings"]
    return {
        "folder": str(folder),
        "ferplus_weight": settings["ferplus_weight"],
        "epochs": metadata.get("epochs"),
        "train_seconds": metadata.get("train_seconds"),
        "class_weights": metadata.get("class_weights"),
        "exported_weights": metadata.get("exported_weights"),
        "init": (metadata.get("init") or {}).get("weights"),
        "peak_lr": settings["peak_lr"],
        "seed": settings["seed"],
    }


def check_one_architecture(metadatas: list[dict]) -> None:
    """Weights average only between nets of one shape: refuse, before any work, models that differ."""
    if len({json.dumps(m["settings"]["stages"]) for m in metadatas}) != 1:
        raise ValueError("soup ingredients must share one architecture (settings.stages)")


def soup_metadata(members: list[Path], metadatas: list[dict]) -> dict:
    """The soup's metadata: the first ingredient's data and settings, with what differs made explicit.

    The label mix becomes the ingredients' mean FER+ weight: the training prior that ``calibrate``
    derives from it is linear in that weight, so it is the mean of the ingredients' priors.
    """
    check_one_architecture(metadatas)
    first = metadatas[0]
    ferplus_weight = float(np.mean([m["settings"]["ferplus_weight"] for m in metadatas]))
    return {
        **{k: v for k, v in first.items() if k not in RUN_KEYS},
        "data": {**first["data"], "labels": f"mean of the ingredients' label mixes (FER+ weight {ferplus_weight:.3f})"},
        "settings": {**first["settings"], "ferplus_weight": ferplus_weight},
        "exported_weights": f"uniform mean of the weights of {len(members)} fine-tuned models (soup)",
        "soup": [_ingredient(folder, meta) for folder, meta in zip(members, metadatas, strict=True)],
        # The ingredients' own training, not the runs they started from (recorded in each one's metadata).
        "train_seconds": round(sum(m.get("train_seconds", 0.0) for m in metadatas), 1),
    }


def greedy_selection(
    candidates: list[Path], score: Callable[[list[Path]], dict[str, float]]
) -> tuple[list[Path], list[dict]]:
    """The greedy soup: candidates ranked by the mean of their own ``score`` (accuracy per selection
    set); from the best, each is kept if the soup's mean with it is at least the soup's mean without
    it.  Returns the kept folders and one row per candidate: its own and the trial soup's per-set
    accuracies and means, and whether it was kept."""
    own = {folder: score([folder]) for folder in candidates}
    ranked = sorted(candidates, key=lambda folder: -_mean(own[folder]))
    kept, best = [ranked[0]], _mean(own[ranked[0]])
    table = [_row(ranked[0], own[ranked[0]], own[ranked[0]], kept=True)]
    for folder in ranked[1:]:
        trial = score([*kept, folder])
        keep = _mean(trial) >= best
        if keep:
            kept, best = [*kept, folder], _mean(trial)
        table.append(_row(folder, own[folder], trial, kept=keep))
        log.info("greedy soup: %s alone %.4f, soup with it %.4f (%s)", folder, _mean(own[folder]), _mean(trial),
                 "kept" if keep else "left out")  # fmt: skip
    return kept, table


def forward_selection(
    candidates: list[Path], score: Callable[[list[Path]], dict[str, float]]
) -> tuple[list[Path], list[dict]]:
    """Forward selection: start from the best candidate alone, then each round try every candidate
    left and add the one whose soup scores best, while that raises the soup's mean.  Unlike the
    ranked greedy soup its path does not hang on the order of the candidates' own scores, for about
    (candidates x ingredients) scores instead of one per candidate.  Rows as ``greedy_selection``:
    the ingredients in the order they joined (their trial = the soup they made), then the others
    with the best soup they were part of in the last round."""
    own = {folder: score([folder]) for folder in candidates}
    first = max(candidates, key=lambda folder: _mean(own[folder]))
    kept, best = [first], own[first]
    table = [_row(first, own[first], own[first], kept=True)]
    left = [folder for folder in candidates if folder != first]
    while left:
        trials = {folder: score([*kept, folder]) for folder in left}
        chosen = max(left, key=lambda folder: _mean(trials[folder]))
        if _mean(trials[chosen]) <= _mean(best):
            table += [_row(folder, own[folder], trials[folder], kept=False) for folder in left]
            break
        kept, best = [*kept, chosen], trials[chosen]
        table.append(_row(chosen, own[chosen], best, kept=True))
        left.remove(chosen)
        log.info("forward soup: added %s, soup %.4f", chosen, _mean(best))
    return kept, table


#: ``soup --greedy --search NAME``: how candidates are chosen, and what the metadata says of it.
SEARCHES = {
    "ranked": (greedy_selection, "ranked (the greedy soup): by own score, best first; each kept if the soup's "
               "score does not fall"),
    "forward": (forward_selection, "forward: each round adds the candidate whose soup scores best, while the "
                "score rises"),
}  # fmt: skip
DEFAULT_SEARCH = "ranked"


def _mean(accuracies: dict[str, float]) -> float:
    return float(np.mean(list(accuracies.values())))


def _row(folder: Path, own: dict[str, float], soup: dict[str, float], kept: bool) -> dict:
    return {"folder": str(folder), "own_score": _mean(own), "soup_score": _mean(soup), "kept": kept,
            "own": own, "soup": soup}  # fmt: skip


def selection_score(candidates: list[Path], per_class: int | None = None) -> Callable[[list[Path]], dict[str, float]]:
    """Score a soup of some of ``candidates``: the accuracy of its Keras weights on each of
    ``calibrate.selection_sets``, each face averaged with its mirror image, no decision rule."""
    from fer_engine.analyzer import Analyzer
    from fer_engine.training.calibrate import accuracy_and_neutral, selection_sets
    from fer_engine.training.model import predict_proba

    metadatas = [json.loads((folder / METADATA_FILE).read_text()) for folder in candidates]
    check_one_architecture(metadatas)
    models = {folder: load_keras_model(folder / KERAS_FILE) for folder in candidates}
    settings = metadatas[0]["settings"]
    # The detector cuts the dev crops; which classifier the analyzer holds does not matter here.
    # On the validation slice the runs were trained against (all of val.npz unless --val-limit).
    sets = selection_sets(Analyzer(candidates[0]), settings["val_path"], per_class, settings.get("val_limit"))
    scratch = load_keras_model(candidates[0] / KERAS_FILE)

    def score(members: list[Path]) -> dict[str, float]:
        scratch.set_weights(mean_weights([models[m] for m in members]))
        probs = {}  # val.npz serves two of the sets: predict its faces once
        accuracies = {}
        for name, (faces, truth, missed) in sets.items():
            key = id(faces)
            probs[key] = probs[key] if key in probs else predict_proba(scratch, faces.x, flip=True)
            accuracies[name] = round(accuracy_and_neutral(probs[key], truth, missed)[0], 4)
        return accuracies

    return score


def make_soup(
    members: list[Path], out_dir: Path, selection: list[dict] | None = None, search: str = DEFAULT_SEARCH
) -> dict:
    """Average the Keras weights of the model folders ``members`` and export the result to ``out_dir``
    (``selection``: the table of the ``search`` in ``SEARCHES`` that chose them, recorded in the metadata)."""
    from fer_engine.training.export import export_trained_model
    from fer_engine.training.train import training_faces

    if len(members) < 2 and selection is None:
        raise ValueError("a soup needs at least two models")
    metadatas = [json.loads((m / METADATA_FILE).read_text()) for m in members]
    metadata = soup_metadata(members, metadatas)
    if selection is not None:
        metadata["soup_selection"] = {
            "method": SEARCHES[search][1],
            "score": "mean accuracy on val.npz (FER+ majority, FER2013 label) and each dev set; Keras, mirrored, "
            "no decision rule",
            "table": selection,
        }
    models = [load_keras_model(m / KERAS_FILE) for m in members]
    model = models[0]
    model.set_weights(mean_weights(models))
    log.info("averaged %d models: %s", len(members), ", ".join(str(m) for m in members))
    val = load_npz(metadata["settings"]["val_path"], metadata["settings"].get("val_limit"))
    faces, _, _ = training_faces(metadata["settings"])  # int8 calibration images, as at a run's export
    return export_trained_model(model, val, faces, metadata, out_dir)
