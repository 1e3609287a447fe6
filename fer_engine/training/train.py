"""Train the emotion CNN on FER2013 (train split) with FER+ soft labels, plus AffectNet; resumable.

Run as ``python -m fer_engine train [--recipe NAME]`` (``RECIPES`` below).  Each epoch writes
``<run-dir>/last.keras`` (model and optimizer state) and ``<run-dir>/state.json``; re-running
with the same run directory resumes.
When all epochs are done, the best epoch (by FER+ accuracy on the validation set, and with dev
sets given, by their accuracy too: selection only, never training) is exported
to ``<out-dir>``: the Keras weights, the TFLite model the engine serves, and metadata JSON.
"""

from __future__ import annotations

import json
import logging
import time
from dataclasses import asdict, dataclass, field
from functools import partial
from pathlib import Path

import numpy as np

from fer_engine.datasets import FaceSet, data_dir, dev_sets, load_npz
from fer_engine.labels import NEUTRAL, NUM_CLASSES, ferplus_majority, mixed_targets
from fer_engine.preprocess import INPUT_SIZE
from fer_engine.training.augment import CAMERA_AUGMENT, AugmentSettings, augment_batch, rectangle_masks
from fer_engine.training.model import (
    DEFAULT_STAGES,
    SLIM_STAGES,
    WIDE_STAGES,
    build_model,
    load_keras_model,
    mean_weights,
    predict_proba,
    resize_weights,
    stages_of,
)
from fer_engine.training.sources import load_affectnet

log = logging.getLogger(__name__)

STATE_FILE = "state.json"
LAST_CHECKPOINT = "last.keras"
BEST_CHECKPOINT = "best.keras"
#: Per-epoch weights kept for stochastic weight averaging (``average_from_epoch``).
EPOCH_WEIGHTS = "epochs/epoch_{:03d}.weights.h5"
#: Dev-set crops, cut once per run so every epoch is scored on the same faces.
DEV_CROPS = "dev_crops.npz"
#: The teachers' probabilities for every training face, computed once per run.
TEACHER_TARGETS = "teacher_targets.npy"
PROJECT_ROOT = Path(__file__).resolve().parents[2]


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
    #: Extra training faces (AffectNet npz, see ``sources.py``); None trains on FER2013 alone.
    affectnet_path: str | None = None
    #: Share of an AffectNet target spread over all classes: one annotator, noisier than ten.
    affectnet_smoothing: float = 0.15
    #: Start from these trained weights (fine-tuning) instead of random ones.
    init_weights: str | None = None
    #: Dev sets scored every epoch, for checkpoint selection only: (folder, whole images are face crops).
    dev_sets: tuple[tuple[str, bool], ...] = ()
    dev_per_class: int | None = None  # score only the first N photos of each dev class (smoke tests)
    #: Export the mean of the best epoch's weights and the last epoch's (one run, one trajectory):
    #: the best epoch by the dev sets and the converged one, each better on different sets.
    average_best_and_last: bool = False
    #: Stochastic weight averaging: keep the weights of every epoch from this one on and export
    #: their mean (0: off).  Dev-set accuracy swings by several points between neighbouring epochs;
    #: the mean of the trajectory uses that spread instead of picking one point of it.
    average_from_epoch: int = 0
    #: The network's (filters, convolutions, downsample-after) per stage (``model.py``).
    stages: tuple[tuple[int, int, bool], ...] = DEFAULT_STAGES
    #: Distillation: Keras weights of trained models whose mean mirrored probabilities on each
    #: training face are blended into its target with ``teacher_weight`` (0: labels only).
    teachers: tuple[str, ...] = ()
    teacher_weight: float = 0.0
    #: Mixup: each training face is blended with another of its batch (share from Beta(a, a)), and
    #: so are their targets.  0 switches it off.  Soft in-between faces teach graded expressions.
    mixup_alpha: float = 0.0
    #: CutMix: a rectangle of another face of the batch (area share from Beta(a, a)) is pasted
    #: into half of the faces, and the targets are blended by the area each face keeps.  Faces
    #: are aligned, so the patch is the partner's brows, eyes or mouth in their usual place: the
    #: net must read every region instead of one cue.  0 switches it off.  Measured in six-epoch
    #: fine-tunes of the served soup: 1.3-1.9 points lower on both dev sets (weights/README.md).
    cutmix_alpha: float = 0.0


#: Named training recipes.  ``fer2013`` made the first committed model; ``mixed`` fine-tunes it on
#: FER2013 + AffectNet with camera augmentations, choosing the epoch that holds up on the dev sets.
RECIPES: dict[str, dict] = {
    "fer2013": {},
    "mixed": {
        "affectnet_path": str(data_dir() / "affectnet" / "train.npz"),
        "init_weights": str(PROJECT_ROOT / "runs" / "fer2013" / "model" / "fer_cnn.weights.h5"),
        "epochs": 20,
        "peak_lr": 1e-3,
        "warmup_epochs": 1,
        "class_weight_power": 0.5,  # AffectNet brings the rare classes; lean further towards balanced recall
        "augment": AugmentSettings(**CAMERA_AUGMENT),
        "dev_sets": dev_sets(),
        "average_best_and_last": True,
    },
    # Both sources from the first epoch, no FER2013-only start: features that never settled on
    # FER2013's look alone.  Long (about 40 epochs), so it resumes across sessions.
    "joint": {
        "affectnet_path": str(data_dir() / "affectnet" / "train.npz"),
        "epochs": 40,
        "class_weight_power": 0.5,
        "augment": AugmentSettings(**CAMERA_AUGMENT),
        "dev_sets": dev_sets(),
        "average_best_and_last": True,
    },
    # A narrower net for the 0.3 ms-per-face budget: slimmed from the ``mixed`` model (its
    # strongest channels kept), then trained on both sources with targets that are 70% the
    # mirrored probabilities of ``mixed`` and ``joint`` averaged (distilling the pair, and the
    # mirror averaging, into one pass of a smaller net) and 30% the labels.
    "slim": {
        "affectnet_path": str(data_dir() / "affectnet" / "train.npz"),
        "init_weights": str(PROJECT_ROOT / "runs" / "mixed" / "model" / "fer_cnn.weights.h5"),
        "stages": SLIM_STAGES,
        "teachers": tuple(
            str(PROJECT_ROOT / "runs" / run / "model" / "fer_cnn.weights.h5") for run in ("mixed", "joint")
        ),
        "teacher_weight": 0.7,
        "epochs": 15,
        "peak_lr": 1e-3,
        "warmup_epochs": 1,
        "class_weight_power": 0.5,
        "augment": AugmentSettings(**CAMERA_AUGMENT),
        "dev_sets": dev_sets(),
        "average_best_and_last": True,
    },
}
# The same, leaning harder towards balanced recall (class weight = share^-0.75 instead of ^-0.5):
# does the student answer "neutral" less on faces unlike FER2013 at the same accuracy?
RECIPES["slim_balanced"] = {**RECIPES["slim"], "class_weight_power": 0.75}
# The same distillation into a student of today's size, started from ``mixed``: one model that
# answers like the average of two (mirrored), at the cost of one.
RECIPES["distil"] = {**RECIPES["slim"], "stages": DEFAULT_STAGES, "epochs": 10, "peak_lr": 5e-4}
# A short fine-tune of ``mixed`` (6 epochs at half its learning rate) whose label mix is the knob:
# ``--ferplus-weight`` from 0.75 (FER+ annotators, who call many faint expressions "neutral") down
# to 0 (the FER2013 label: the expression the photo was found under, closer to what posed sets
# mark).  Runs with different weights are ingredients of a soup (``python -m fer_engine soup``).
RECIPES["refine"] = {
    **RECIPES["mixed"],
    "init_weights": str(PROJECT_ROOT / "runs" / "mixed" / "model" / "fer_cnn.weights.h5"),
    "epochs": 6,
    "peak_lr": 5e-4,
}
# The served soup widened (``WIDE_STAGES``, the same function at the start), then the ``refine``
# fine-tune: does more room in the late stages read faint expressions that the soup calls "neutral"?
# Measured: no (two runs 63.03 and 62.94, the soup 64.12; weights/README.md, "Runs tried").
RECIPES["wide"] = {
    **RECIPES["refine"],
    "init_weights": str(PROJECT_ROOT / "weights" / "fer_cnn.weights.h5"),
    "stages": WIDE_STAGES,
    "ferplus_weight": 0.4,
    "class_weight_power": 0.8,
}
# The stronger base the refinements could not give: ``WIDE_STAGES`` trained from scratch on both
# sources, as ``joint``.  Forty epochs are hours on a CPU core: it resumes from ``--run-dir``.
# Measured: no (mean 62.67, 63.59 with its rule; the soup 64.04; weights/README.md, "Runs tried").
RECIPES["wide_joint"] = {**RECIPES["joint"], "stages": WIDE_STAGES}
# ``refine`` with one more camera mark: a JPEG round trip for 30% of the faces (quality 15-75,
# ``augment.JPEG_QUALITY``), as messengers and video stills recompress what people send.
# Measured: no (63.35 and 63.05 alone, the soup 64.12; weights/README.md, "Runs tried").
RECIPES["refine_jpeg"] = {**RECIPES["refine"], "augment": AugmentSettings(**CAMERA_AUGMENT, jpeg_prob=0.3)}
DEFAULT_RECIPE = "mixed"


def recipe(name: str, **overrides) -> TrainSettings:
    """The settings of a named recipe, with ``overrides`` (None values are ignored)."""
    return TrainSettings(**{**RECIPES[name], **{k: v for k, v in overrides.items() if v is not None}})


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
    for mix, alpha in ((mixup_batch, settings.mixup_alpha), (cutmix_batch, settings.cutmix_alpha)):
        if alpha > 0:
            ds = ds.map(partial(mix, alpha=alpha), num_parallel_calls=tf.data.AUTOTUNE)
    return ds.prefetch(tf.data.AUTOTUNE)


def _beta_shares(batch, alpha: float):
    """``batch`` draws from Beta(a, a), as g1 / (g1 + g2) with g ~ Gamma(a): TensorFlow has no Beta sampler."""
    import tensorflow as tf

    g1, g2 = tf.random.gamma([batch], alpha), tf.random.gamma([batch], alpha)
    return g1 / (g1 + g2 + 1e-12)


def _blend_with_partner(values, share, partner):
    """share x each row + (1 - share) x its partner's row; ``share`` has one value per row."""
    import tensorflow as tf

    lam = tf.reshape(share, [-1] + [1] * (len(values.shape) - 1))
    return lam * values + (1 - lam) * tf.gather(values, partner)


def mixup_batch(images, targets, sample_weights, alpha: float):
    """Blend every face of a batch with a random partner: image, target and loss weight alike."""
    import tensorflow as tf

    batch = tf.shape(images)[0]
    share = _beta_shares(batch, alpha)
    partner = tf.random.shuffle(tf.range(batch))
    return tuple(_blend_with_partner(v, share, partner) for v in (images, targets, sample_weights))


#: Share of the faces of a batch that get a partner's patch; the rest pass unchanged.
CUTMIX_SHARE_OF_FACES = 0.5


def cutmix_batch(images, targets, sample_weights, alpha: float):
    """Paste a random rectangle of a random partner into half of a batch's faces (CutMix, Yun et
    al. 2019); target and loss weight are blended by the share of its own pixels each face keeps."""
    import tensorflow as tf

    batch = tf.shape(images)[0]
    height, width = tf.cast(tf.shape(images)[1], tf.float32), tf.cast(tf.shape(images)[2], tf.float32)
    # The rectangle's sides are sqrt(1 - share) of the image's, about a uniform random centre;
    # clipping at the border makes the pasted area smaller, so the share is measured afterwards.
    side = tf.sqrt(1.0 - _beta_shares(batch, alpha))
    side = tf.where(tf.random.uniform([batch]) < CUTMIX_SHARE_OF_FACES, side, 0.0)

    def span(length):
        centre = tf.random.uniform([batch], 0.0, length)
        half = side * length / 2
        return tf.clip_by_value(centre - half, 0.0, length), tf.clip_by_value(centre + half, 0.0, length)

    pasted = tf.cast(rectangle_masks(height, width, *span(height), *span(width)), tf.float32)[..., None]
    partner = tf.random.shuffle(tf.range(batch))
    mixed = (1.0 - pasted) * images + pasted * tf.gather(images, partner)
    share = 1.0 - tf.reduce_mean(pasted, axis=[1, 2, 3])
    return mixed, _blend_with_partner(targets, share, partner), _blend_with_partner(sample_weights, share, partner)


def training_faces(settings: dict) -> tuple[FaceSet, np.ndarray, int]:
    """The training faces a run's settings describe (``TrainSettings`` as a dict, as in a model's
    metadata): FER2013 then AffectNet, their soft targets, and how many of the faces are FER2013's."""
    faces = load_npz(settings["train_path"], settings["limit"])
    targets = mixed_targets(faces.y, faces.votes, settings["ferplus_weight"])
    fer2013_images = len(faces)
    if settings["affectnet_path"]:
        extra, extra_targets = load_affectnet(
            settings["affectnet_path"], faces.x, settings["seed"], settings["affectnet_smoothing"], settings["limit"]
        )
        faces = FaceSet(np.concatenate([faces.x, extra.x]), np.concatenate([faces.y, extra.y]))
        targets = np.concatenate([targets, extra_targets])
    return faces, targets, fer2013_images


def validation_scores(probs: np.ndarray, val: FaceSet) -> dict[str, float]:
    pred = probs.argmax(axis=1)
    scores = {"fer2013_accuracy": float((pred == val.y).mean())}
    if val.votes is not None:
        majority = ferplus_majority(val.votes)
        usable = majority >= 0
        scores["ferplus_accuracy"] = float((pred[usable] == majority[usable]).mean())
    return scores


def _selection_score(scores: dict[str, float]) -> float:
    """FER+ accuracy on val.npz, averaged with each dev set's accuracy over all its photos when scored."""
    parts = [scores.get("ferplus_accuracy", scores["fer2013_accuracy"])]
    parts += [v for k, v in scores.items() if k.startswith("dev_") and k.endswith("_accuracy")]
    return float(np.mean(parts))


def _dev_sets(settings: TrainSettings, run_dir: Path) -> dict[str, tuple[FaceSet, int]]:
    """Each dev set's face crops and how many of its photos gave no face; cut once, cached in the run."""
    cache = run_dir / DEV_CROPS
    if not settings.dev_sets:
        return {}
    if not cache.exists():
        from fer_engine.analyzer import Analyzer
        from fer_engine.evaluate import load_folder

        analyzer = Analyzer()
        arrays = {}
        for folder, crops in settings.dev_sets:
            name = Path(folder).name
            loaded = load_folder(Path(folder), analyzer, crops=crops, per_class=settings.dev_per_class)
            arrays |= {f"{name}.x": loaded.faces.x, f"{name}.y": loaded.faces.y,
                       f"{name}.missed": np.array(loaded.no_face + loaded.unreadable)}  # fmt: skip
        np.savez_compressed(cache, **arrays)
    with np.load(cache) as data:
        names = sorted({key.split(".")[0] for key in data.files})
        return {n: (FaceSet(data[f"{n}.x"], data[f"{n}.y"]), int(data[f"{n}.missed"])) for n in names}


def dev_scores(model, dev: dict[str, tuple[FaceSet, int]]) -> dict[str, float]:
    """Accuracy over all photos (missed faces count as wrong) and the share of "neutral" answers per dev set."""
    scores = {}
    for name, (faces, missed) in dev.items():
        pred = predict_proba(model, faces.x).argmax(axis=1)
        scores[f"dev_{name}_accuracy"] = float((pred == faces.y).sum() / (len(faces) + missed))
        scores[f"dev_{name}_neutral_share"] = float((pred == NEUTRAL).mean())
    return scores


def teacher_targets(settings: TrainSettings, x: np.ndarray, run_dir: Path) -> np.ndarray:
    """The teachers' mean probabilities (each face and its mirror image averaged), cached in the run."""
    cache = run_dir / TEACHER_TARGETS
    if cache.exists():
        probs = np.load(cache)
        if len(probs) == len(x):
            return probs
    probs = np.mean([predict_proba(load_keras_model(path), x, flip=True) for path in settings.teachers], axis=0)
    np.save(cache, probs.astype(np.float32))
    return probs.astype(np.float32)


def _initial_model(settings: TrainSettings):
    """A fresh model of ``settings.stages``: random, or from ``init_weights`` (slimmed when narrower,
    widened as the same function when wider)."""
    model = build_model(settings.stages, dropout=settings.dropout)
    if settings.init_weights:
        source_stages = stages_of(settings.init_weights)
        if source_stages == tuple(settings.stages):
            model.load_weights(settings.init_weights)
        else:
            resize_weights(load_keras_model(settings.init_weights, source_stages), model)
    return model


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


def _init_metadata(init_weights: str | None) -> dict | None:
    """What the fine-tuned model started from: the starting model's own metadata summary."""
    if not init_weights:
        return None
    meta_path = Path(init_weights).with_name("metadata.json")
    meta = json.loads(meta_path.read_text()) if meta_path.exists() else {}
    keys = ("data", "settings", "epochs", "best_epoch", "train_seconds", "hardware", "git_commit")
    return {"weights": init_weights, **{k: meta[k] for k in keys if k in meta}}


def _averaged_epochs(settings: TrainSettings, state: dict) -> list[int]:
    """The epochs whose weights stochastic weight averaging takes the mean of (empty when off)."""
    if not settings.average_from_epoch:
        return []
    return list(range(settings.average_from_epoch, state["epochs_done"] + 1))


def _exported_weights(settings: TrainSettings, run_dir: Path, state: dict):
    """The model to export and a sentence saying which weights it holds."""
    import keras

    best = keras.models.load_model(run_dir / BEST_CHECKPOINT)
    epochs = _averaged_epochs(settings, state)
    if len(epochs) > 1:
        paths = [run_dir / EPOCH_WEIGHTS.format(epoch) for epoch in epochs]
        missing = [str(path) for path in paths if not path.exists()]
        if missing:  # e.g. averaging switched on when resuming a run that did not keep its epochs
            raise FileNotFoundError(f"weights to average are missing: {', '.join(missing)}")
        best.set_weights(mean_weights([load_keras_model(path, settings.stages) for path in paths]))
        return best, f"mean of the weights of epochs {epochs[0]}-{epochs[-1]} (stochastic weight averaging)"
    if settings.average_best_and_last and state["best_epoch"] != state["epochs_done"]:
        best.set_weights(mean_weights([best, keras.models.load_model(run_dir / LAST_CHECKPOINT)]))
        best_epoch, last_epoch = state["best_epoch"], state["epochs_done"]
        return best, f"mean of the weights of epoch {best_epoch} (best) and epoch {last_epoch} (last)"
    return best, f"epoch {state['best_epoch']} (best)"


def train(settings: TrainSettings, run_dir: Path, out_dir: Path | None) -> dict:
    """Train (or resume) into ``run_dir``; export the best epoch to ``out_dir``; return the metadata."""
    import keras

    state = _load_state(run_dir)
    missing = [path for path in settings.teachers if not Path(path).exists()]
    if missing and not (run_dir / TEACHER_TARGETS).exists():
        raise FileNotFoundError(
            f"teacher weights missing: {', '.join(missing)}; train them first (recipes 'mixed' and 'joint', "
            "each with --out runs/<recipe>/model)"
        )
    if settings.init_weights and state["epochs_done"] == 0 and not Path(settings.init_weights).exists():
        raise FileNotFoundError(
            f"{settings.init_weights} is missing: this recipe starts from a trained model; make it first "
            "(for 'mixed': python -m fer_engine train --recipe fer2013 --run-dir runs/fer2013/run --out "
            "runs/fer2013/model; for 'slim' and 'refine': python -m fer_engine train --recipe mixed "
            "--out runs/mixed/model)"
        )
    run_dir.mkdir(parents=True, exist_ok=True)
    keras.utils.set_random_seed(settings.seed)
    train_set, targets, fer2013_images = training_faces(asdict(settings))
    val_set = load_npz(settings.val_path, settings.val_limit)
    weights = class_weights(targets, settings.class_weight_power)
    if settings.teachers:
        taught = teacher_targets(settings, train_set.x, run_dir)
        targets = (1 - settings.teacher_weight) * targets + settings.teacher_weight * taught
    dev = _dev_sets(settings, run_dir)
    log.info("training on %d images, validating on %d", len(train_set), len(val_set))
    log.info("class weights %s", weights.round(2))

    steps_per_epoch = max(1, len(train_set) // settings.batch_size)
    if state["epochs_done"] > 0:
        log.info("resuming after epoch %d from %s", state["epochs_done"], run_dir / LAST_CHECKPOINT)
        model = keras.models.load_model(run_dir / LAST_CHECKPOINT)
    else:
        model = _initial_model(settings)
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
        scores = validation_scores(predict_proba(model, val_set.x), val_set) | dev_scores(model, dev)
        seconds = time.time() - started
        entry = {"epoch": epoch + 1, "loss": float(fit.history["loss"][-1]), "seconds": round(seconds, 1), **scores}
        state["history"].append(entry)
        state["epochs_done"] = epoch + 1
        if _selection_score(scores) > state.get("best_score", -1.0):
            state["best_score"] = _selection_score(scores)
            state["best_epoch"] = epoch + 1
            model.save(run_dir / BEST_CHECKPOINT)
        if settings.average_from_epoch and epoch + 1 >= settings.average_from_epoch:
            path = run_dir / EPOCH_WEIGHTS.format(epoch + 1)
            path.parent.mkdir(exist_ok=True)
            model.save_weights(path)
        model.save(run_dir / LAST_CHECKPOINT)
        (run_dir / STATE_FILE).write_text(json.dumps(state, indent=1))
        log.info("epoch %d/%d %s", epoch + 1, settings.epochs, json.dumps(entry))

    if out_dir is None:
        return state
    from fer_engine.training.export import export_trained_model

    best, exported = _exported_weights(settings, run_dir, state)
    metadata = {
        "data": {
            "train": {"path": settings.train_path, "images": fer2013_images},
            "affectnet": settings.affectnet_path
            and {
                "path": settings.affectnet_path,
                "images": len(train_set) - fer2013_images,
                "preparation": "in_fer2013 copies skipped; face shrunk to 90% and blended onto a blurred FER2013 "
                "surround; label smoothed",
            },
            "validation": {"path": settings.val_path, "images": len(val_set)},
            "labels": f"{settings.ferplus_weight} x FER+ vote shares + {1 - settings.ferplus_weight:.2f} x FER2013",
        },
        "settings": {**asdict(settings), "input_size": INPUT_SIZE},
        "init": _init_metadata(settings.init_weights),
        "class_weights": weights.round(4).tolist(),
        "epochs": settings.epochs,
        "best_epoch": state["best_epoch"],
        "exported_weights": exported,
        "train_seconds": round(sum(e["seconds"] for e in state["history"]), 1),
        "history": state["history"],
        "hardware": _hardware(),
        "parameters": int(best.count_params()),
        "num_classes": NUM_CLASSES,
    }
    return export_trained_model(best, val_set, train_set, metadata, out_dir)
