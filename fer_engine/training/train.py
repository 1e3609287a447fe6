"""Train the emotion CNN on FER2013 (train split) with FER+ soft labels; resumable, checkpointed.

Run as ``python -m fer_engine train``.  Each epoch writes ``<run-dir>/last.keras`` (model and
optimizer state) and ``<run-dir>/state.json``; re-running with the same run directory resumes.
When all epochs are done, the best epoch (by FER+ accuracy on the validation set) is exported
to ``<out-dir>``: the Keras weights, the TFLite model the engine serves, and metadata JSON.
"""

from __future__ import annotations

import json
import logging
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np

from fer_engine.augment import AugmentSettings, augment_batch
from fer_engine.datasets import FaceSet, data_dir, load_npz
from fer_engine.labels import NUM_CLASSES, ferplus_majority, mixed_targets
from fer_engine.model import DEFAULT_STAGES, INPUT_SIZE, build_model

log = logging.getLogger(__name__)

STATE_FILE = "state.json"
LAST_CHECKPOINT = "last.keras"
BEST_CHECKPOINT = "best.keras"


@dataclass
class TrainSettings:
    train_path: str = field(default_factory=lambda: str(data_dir() / "fer2013" / "train.npz"))
    val_path: str = field(default_factory=lambda: str(data_dir() / "fer2013" / "val.npz"))
    epochs: int = 45
    batch_size: int = 128
    peak_lr: float = 2e-3
    warmup_epochs: int = 2
    weight_decay: float = 5e-4
    #: Share of the target taken from the FER+ vote distribution; the rest is the FER2013 label.
    ferplus_weight: float = 0.75
    #: Class weight = (class share)^-power, normalised to mean 1: lifts the rare `disgust`.
    class_weight_power: float = 0.3
    dropout: float = 0.4
    seed: int = 1234
    limit: int | None = None  # use only the first N training images (smoke tests)
    val_limit: int | None = None
    augment: AugmentSettings = field(default_factory=AugmentSettings)


def class_weights(targets: np.ndarray, power: float) -> np.ndarray:
    """Per-class loss weights from the soft target mass of each class."""
    share = targets.sum(axis=0) / targets.sum()
    weights = np.power(np.maximum(share, 1e-4), -power)
    return (weights / (weights * share).sum()).astype(np.float32)


def _train_dataset(train: FaceSet, targets: np.ndarray, weights: np.ndarray, settings: TrainSettings):
    import tensorflow as tf

    x = train.x[..., None].astype(np.float32)
    sample_weight = (targets * weights).sum(axis=1).astype(np.float32)
    ds = tf.data.Dataset.from_tensor_slices((x, targets, sample_weight))
    ds = ds.shuffle(len(x), seed=settings.seed, reshuffle_each_iteration=True)
    ds = ds.batch(settings.batch_size, drop_remainder=len(x) >= settings.batch_size)
    ds = ds.map(
        lambda img, t, w: (augment_batch(img, settings.augment), t, w),
        num_parallel_calls=tf.data.AUTOTUNE,
    )
    return ds.prefetch(tf.data.AUTOTUNE)


def predict_proba(model, x: np.ndarray, batch_size: int = 512, flip: bool = False) -> np.ndarray:
    """Keras probabilities for uint8 (N, 48, 48) crops, optionally averaged with the mirrored face."""
    batch = x[..., None].astype(np.float32)
    probs = model.predict(batch, batch_size=batch_size, verbose=0)
    if flip:
        probs = (probs + model.predict(batch[:, :, ::-1], batch_size=batch_size, verbose=0)) / 2
    return probs


def validation_scores(probs: np.ndarray, val: FaceSet) -> dict[str, float]:
    pred = probs.argmax(axis=1)
    scores = {"fer2013_accuracy": float((pred == val.y).mean())}
    if val.votes is not None:
        majority = ferplus_majority(val.votes)
        usable = majority >= 0
        scores["ferplus_accuracy"] = float((pred[usable] == majority[usable]).mean())
    return scores


def _selection_score(scores: dict[str, float]) -> float:
    return scores.get("ferplus_accuracy", scores["fer2013_accuracy"])


def _load_state(run_dir: Path) -> dict:
    path = run_dir / STATE_FILE
    return json.loads(path.read_text()) if path.exists() else {"epochs_done": 0, "history": []}


def _hardware() -> dict:
    import os
    import platform

    cpu = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return {"cpu": cpu, "cores": os.cpu_count(), "platform": platform.platform(), "gpu": None}


def train(settings: TrainSettings, run_dir: Path, out_dir: Path | None) -> dict:
    """Train (or resume) into ``run_dir``; export the best epoch to ``out_dir``; return the metadata."""
    import keras

    run_dir.mkdir(parents=True, exist_ok=True)
    keras.utils.set_random_seed(settings.seed)
    train_set = load_npz(settings.train_path, settings.limit)
    val_set = load_npz(settings.val_path, settings.val_limit)
    targets = mixed_targets(train_set.y, train_set.votes, settings.ferplus_weight)
    weights = class_weights(targets, settings.class_weight_power)
    log.info("training on %d images, validating on %d", len(train_set), len(val_set))
    log.info("class weights %s", weights.round(2))

    state = _load_state(run_dir)
    steps_per_epoch = max(1, len(train_set) // settings.batch_size)
    if state["epochs_done"] > 0:
        log.info("resuming after epoch %d from %s", state["epochs_done"], run_dir / LAST_CHECKPOINT)
        model = keras.models.load_model(run_dir / LAST_CHECKPOINT)
    else:
        model = build_model(DEFAULT_STAGES, dropout=settings.dropout)
        total_steps = steps_per_epoch * settings.epochs
        warmup = min(steps_per_epoch * settings.warmup_epochs, total_steps // 2)
        schedule = keras.optimizers.schedules.CosineDecay(
            initial_learning_rate=settings.peak_lr / 20,
            decay_steps=max(1, total_steps - warmup),
            alpha=0.01,
            warmup_target=settings.peak_lr,
            warmup_steps=warmup,
        )
        optimizer = keras.optimizers.AdamW(learning_rate=schedule, weight_decay=settings.weight_decay)
        model.compile(optimizer=optimizer, loss="categorical_crossentropy", metrics=["categorical_accuracy"])

    dataset = _train_dataset(train_set, targets, weights, settings)
    for epoch in range(state["epochs_done"], settings.epochs):
        started = time.time()
        fit = model.fit(dataset, epochs=epoch + 1, initial_epoch=epoch, verbose=0)
        scores = validation_scores(predict_proba(model, val_set.x), val_set)
        seconds = time.time() - started
        entry = {"epoch": epoch + 1, "loss": float(fit.history["loss"][-1]), "seconds": round(seconds, 1), **scores}
        state["history"].append(entry)
        state["epochs_done"] = epoch + 1
        if _selection_score(scores) > state.get("best_score", -1.0):
            state["best_score"] = _selection_score(scores)
            state["best_epoch"] = epoch + 1
            model.save(run_dir / BEST_CHECKPOINT)
        model.save(run_dir / LAST_CHECKPOINT)
        (run_dir / STATE_FILE).write_text(json.dumps(state, indent=1))
        log.info("epoch %d/%d %s", epoch + 1, settings.epochs, json.dumps(entry))

    if out_dir is None:
        return state
    from fer_engine.export import export_trained_model

    best = keras.models.load_model(run_dir / BEST_CHECKPOINT)
    metadata = {
        "data": {
            "train": {"path": settings.train_path, "images": len(train_set)},
            "validation": {"path": settings.val_path, "images": len(val_set)},
            "labels": f"{settings.ferplus_weight} x FER+ vote shares + {1 - settings.ferplus_weight:.2f} x FER2013",
        },
        "settings": {**asdict(settings), "stages": DEFAULT_STAGES, "input_size": INPUT_SIZE},
        "class_weights": weights.round(4).tolist(),
        "epochs": settings.epochs,
        "best_epoch": state["best_epoch"],
        "train_seconds": round(sum(e["seconds"] for e in state["history"]), 1),
        "history": state["history"],
        "hardware": _hardware(),
        "parameters": int(best.count_params()),
        "num_classes": NUM_CLASSES,
    }
    return export_trained_model(best, val_set, train_set, metadata, out_dir)
