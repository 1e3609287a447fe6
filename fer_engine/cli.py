"""Argument parsing for ``python -m fer_engine``; each sub-command calls into the package API."""

from __future__ import annotations

import argparse
import json
import logging
import os
import sys
from pathlib import Path

from fer_engine.classifier import DEFAULT_MODEL_DIR
from fer_engine.errors import ModelNotFound

PROJECT_ROOT = Path(__file__).resolve().parents[1]


def _add_train(sub) -> None:
    from fer_engine.training.train import DEFAULT_RECIPE, RECIPES

    p = sub.add_parser("train", help="train the CNN on FER2013 + FER+ votes (+ AffectNet); resumable")
    p.add_argument("--recipe", choices=sorted(RECIPES), default=DEFAULT_RECIPE, help="default: %(default)s")
    p.add_argument("--train-data", dest="train_path", help="npz with x, y[, votes] (default: FER2013 train)")
    p.add_argument("--val-data", dest="val_path", help="npz for model selection (default: FER2013 val)")
    p.add_argument("--init", dest="init_weights", help="start from these Keras weights (fine-tuning)")
    p.add_argument("--run-dir", type=Path, help="checkpoints; resumes there (default: runs/<recipe>/run)")
    p.add_argument("--out", type=Path, help="where the final model goes (default: runs/<recipe>/model; the "
                   "served model in weights/ changes only when asked)")  # fmt: skip
    p.add_argument("--epochs", type=int)
    p.add_argument("--batch-size", type=int)
    p.add_argument("--lr", dest="peak_lr", type=float, help="peak learning rate")
    p.add_argument("--ferplus-weight", type=float)
    p.add_argument("--limit", type=int, help="train on the first N images of each source only (smoke test)")
    p.add_argument("--val-limit", type=int, help="validate on the first N images only")
    p.add_argument("--dev-per-class", type=int, help="score only the first N dev photos of each class (smoke test)")
    p.add_argument("--seed", type=int)
    p.add_argument("--class-weight-power", type=float, help="class weight = share^-power (0: none, 1: balanced)")
    p.add_argument("--mixup", dest="mixup_alpha", type=float, help="mixup Beta(a, a) parameter (0: off)")
    p.add_argument("--cutmix", dest="cutmix_alpha", type=float, help="CutMix Beta(a, a) parameter (0: off)")
    p.add_argument(
        "--average-from",
        dest="average_from_epoch",
        type=int,
        metavar="EPOCH",
        help="export the mean of the weights of every epoch from EPOCH on (stochastic weight averaging)",
    )
    p.set_defaults(func=_run_train)


#: CLI options that override a recipe's setting of the same name.
TRAIN_OVERRIDES = (
    "train_path", "val_path", "init_weights", "epochs", "batch_size", "peak_lr", "ferplus_weight", "limit",
    "val_limit", "dev_per_class", "seed", "class_weight_power", "mixup_alpha", "cutmix_alpha",
    "average_from_epoch",
)  # fmt: skip


def _run_train(args) -> int:
    from fer_engine.training.train import recipe, train

    settings = recipe(args.recipe, **{name: getattr(args, name) for name in TRAIN_OVERRIDES})
    run_dir = args.run_dir or PROJECT_ROOT / "runs" / args.recipe / "run"
    out_dir = args.out or PROJECT_ROOT / "runs" / args.recipe / "model"
    try:
        metadata = train(settings, run_dir, out_dir)
    except FileNotFoundError as exc:  # missing data or starting weights: say which, no traceback
        print(f"error: {exc}", file=sys.stderr)
        return 2
    print(f"done: best epoch {metadata.get('best_epoch')}, validation {metadata.get('validation', {})}")
    return 0


def _add_model_options(p) -> None:
    p.add_argument("--model", type=Path, default=DEFAULT_MODEL_DIR, help="model folder (default: %(default)s)")
    p.add_argument("--flip", action=argparse.BooleanOptionalAction,
                   help="mirrored test-time averaging on or off (default: as the model's metadata says)")  # fmt: skip


def _analyzer(args):
    from fer_engine.analyzer import Analyzer

    return Analyzer(args.model, flip=args.flip)


def _add_evaluate(sub) -> None:
    from fer_engine.datasets import data_dir

    p = sub.add_parser("evaluate", help="accuracy, macro-F1, per-class scores, confusion matrix on labelled data")
    p.add_argument("data", type=Path, nargs="?", default=data_dir() / "fer2013" / "val.npz",
                   help="npz with x, y[, votes], or a folder with one sub-folder of photos per class")  # fmt: skip
    p.add_argument("--out", type=Path, default=PROJECT_ROOT / "out" / "evaluate", help="where JSON and PNGs go")
    p.add_argument("--no-feature-maps", dest="feature_maps", action="store_false")
    p.add_argument("--crops", action="store_true", help="a folder of face crops: each whole image is the face")
    p.add_argument("--per-class", type=int, help="a folder: only the first N photos of each class (a quick slice)")
    _add_model_options(p)
    p.set_defaults(func=_run_evaluate)


def _run_evaluate(args) -> int:
    from fer_engine.evaluate import evaluate, print_summary

    if not args.data.exists():
        print(f"error: {args.data} does not exist", file=sys.stderr)
        return 2
    try:
        summary = evaluate(args.data, args.out, _analyzer(args), feature_maps=args.feature_maps, crops=args.crops,
                           per_class=args.per_class)  # fmt: skip
    except ValueError as exc:  # a file that is not a labelled set
        print(f"error: {exc}", file=sys.stderr)
        return 2
    print(print_summary(summary))
    print(f"\nwritten: {args.out}/report.json and PNGs")
    return 0


def _add_calibrate(sub) -> None:
    p = sub.add_parser("calibrate", help="choose the decision rule on val.npz and the dev sets; writes metadata.json")
    p.add_argument("--model", type=Path, default=DEFAULT_MODEL_DIR, help="model folder (default: %(default)s)")
    p.add_argument("--val-data", help="npz with FER+ votes (default: the model's own validation set)")
    p.add_argument("--per-class", type=int, help="only the first N dev photos of each class (a quick slice)")
    p.add_argument("--flip", action=argparse.BooleanOptionalAction,
                   help="serve mirrored or in a single pass (default: as the model is served now)")  # fmt: skip
    p.set_defaults(func=_run_calibrate)


def _run_calibrate(args) -> int:
    from fer_engine.training.calibrate import calibrate, format_table

    decision = calibrate(args.model, args.val_data, args.per_class, flip=args.flip)
    print(format_table(decision))
    print(f"\nchosen tau {decision['tau']}: class weights {decision['class_weights']} -> {args.model}/metadata.json")
    return 0


def _add_analyze(sub) -> None:
    p = sub.add_parser("analyze", help="emotions of every face in images and folders")
    p.add_argument("paths", type=Path, nargs="+", help="image files and/or folders")
    p.add_argument("--csv", type=Path, help="write one row per face as CSV")
    p.add_argument("--json", type=Path, help="write full results as JSON")
    p.add_argument("--annotate", type=Path, metavar="DIR", help="write annotated copies into DIR")
    _add_model_options(p)
    p.set_defaults(func=_run_analyze)


def _run_analyze(args) -> int:
    from fer_engine.bulk import analyze_paths, format_table, rows, write_csv, write_json

    outcomes = analyze_paths(_analyzer(args), args.paths, args.annotate)
    table = rows(outcomes)
    print(format_table(table))
    if args.csv:
        write_csv(table, args.csv)
    if args.json:
        write_json(outcomes, args.json)
    return 0 if outcomes else 1


def _add_video(sub) -> None:
    p = sub.add_parser("video", help="annotate a video file or webcam frame by frame")
    p.add_argument("source", help="video file, or a webcam index such as 0")
    p.add_argument("--out", type=Path, help="annotated output video (.mp4)")
    p.add_argument("--max-frames", type=int, help="stop after this many frames")
    _add_model_options(p)
    p.set_defaults(func=_run_video)


def _run_video(args) -> int:
    from fer_engine.video import annotate_video

    try:
        stats = annotate_video(_analyzer(args), args.source, args.out, args.max_frames)
    except OSError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    print(f"{stats.frames} frames, {stats.faces} faces, {stats.fps:.1f} frames/s (analysis time only)")
    if args.out:
        print(f"written: {args.out}")
    return 0


def _add_ensemble(sub) -> None:
    from fer_engine.datasets import data_dir

    p = sub.add_parser("ensemble", help="serve the average of several trained models (writes ensemble.json)")
    p.add_argument("members", type=Path, nargs="+", help="model folders made by `train`, inside --out")
    p.add_argument("--out", type=Path, default=DEFAULT_MODEL_DIR, help="the served model folder")
    p.add_argument("--val-data", type=Path, default=data_dir() / "fer2013" / "val.npz")
    p.set_defaults(func=_run_ensemble)


def _run_ensemble(args) -> int:
    from fer_engine.ensemble import write_ensemble

    summary = write_ensemble(args.members, args.out, args.val_data)
    print(json.dumps(summary, indent=1))
    return 0


def _add_soup(sub) -> None:
    p = sub.add_parser("soup", help="average the weights of models fine-tuned from one start (one model's cost)")
    p.add_argument("members", type=Path, nargs="+", help="model folders made by `train`")
    p.add_argument("--out", type=Path, required=True, help="where the averaged model goes")
    p.add_argument("--greedy", action="store_true", help="the folders are candidates: keep each that does not "
                   "lower the mean of the four issue-7 accuracies (val.npz, dev sets)")  # fmt: skip
    p.add_argument("--search", choices=("ranked", "forward"),
                   help="with --greedy: 'ranked' tries candidates once, best alone first (the paper's greedy "
                   "soup; the default); 'forward' adds, round by round, whichever candidate makes the best "
                   "soup")  # fmt: skip
    p.add_argument("--per-class", type=int, help="with --greedy: only the first N dev photos of each class")
    p.set_defaults(func=_run_soup)


def _run_soup(args) -> int:
    from fer_engine.training.soup import DEFAULT_SEARCH, SEARCHES, make_soup, selection_score

    search = args.search or DEFAULT_SEARCH
    try:
        if args.search and not args.greedy:
            raise ValueError("--search chooses among candidates: add --greedy")
        members, table = args.members, None
        if args.greedy:
            choose = SEARCHES[search][0]
            members, table = choose(args.members, selection_score(args.members, args.per_class))
            for row in table:
                verdict = "kept" if row["kept"] else "left out"
                print(f"{row['folder']}: alone {row['own_score']:.2%} ({_per_set(row['own'])}), "
                      f"soup with it {row['soup_score']:.2%} ({_per_set(row['soup'])}), {verdict}")  # fmt: skip
        metadata = make_soup(members, args.out, table, search)
    except (ValueError, FileNotFoundError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    accuracy = {name: round(r["accuracy"], 4) for name, r in metadata["validation"]["served_tflite_flip"].items()}
    print(f"written: {args.out}; validation accuracy (mirrored, before calibrate): {json.dumps(accuracy)}")
    return 0


def _per_set(accuracies: dict[str, float]) -> str:
    return " ".join(f"{name} {value:.2%}" for name, value in accuracies.items())


SUBCOMMANDS = (_add_train, _add_evaluate, _add_calibrate, _add_analyze, _add_video, _add_ensemble, _add_soup)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m fer_engine", description=__doc__)
    parser.add_argument("-v", "--verbose", action="store_true", help="debug logging")
    sub = parser.add_subparsers(dest="command", required=True)
    for add in SUBCOMMANDS:
        add(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    args = build_parser().parse_args(argv)
    logging.basicConfig(
        level=logging.DEBUG if args.verbose else logging.INFO,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
        stream=sys.stderr,
    )
    try:
        return args.func(args)
    except ModelNotFound as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
