"""Argument parsing for ``python -m fer_engine``; each sub-command calls into the package API."""

from __future__ import annotations

import argparse
import logging
import os
import sys
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parents[1]
DEFAULT_WEIGHTS_DIR = PROJECT_ROOT / "weights"


def _add_train(sub) -> None:
    from fer_engine.train import TrainSettings

    defaults = TrainSettings()
    p = sub.add_parser("train", help="train the CNN on FER2013 + FER+ votes (resumable)")
    p.add_argument("--train-data", default=defaults.train_path, help="npz with x, y[, votes] (default: %(default)s)")
    p.add_argument("--val-data", default=defaults.val_path, help="npz for model selection (default: %(default)s)")
    p.add_argument("--run-dir", type=Path, default=PROJECT_ROOT / "runs" / "train", help="checkpoints; reused to resume")
    p.add_argument("--out", type=Path, default=DEFAULT_WEIGHTS_DIR, help="where the final model goes")
    p.add_argument("--epochs", type=int, default=defaults.epochs)
    p.add_argument("--batch-size", type=int, default=defaults.batch_size)
    p.add_argument("--lr", type=float, default=defaults.peak_lr, help="peak learning rate")
    p.add_argument("--ferplus-weight", type=float, default=defaults.ferplus_weight)
    p.add_argument("--limit", type=int, help="train on the first N images only (smoke test)")
    p.add_argument("--val-limit", type=int, help="validate on the first N images only")
    p.add_argument("--seed", type=int, default=defaults.seed)
    p.set_defaults(func=_run_train)


def _run_train(args) -> int:
    from fer_engine.train import TrainSettings, train

    settings = TrainSettings(
        train_path=str(args.train_data),
        val_path=str(args.val_data),
        epochs=args.epochs,
        batch_size=args.batch_size,
        peak_lr=args.lr,
        ferplus_weight=args.ferplus_weight,
        limit=args.limit,
        val_limit=args.val_limit,
        seed=args.seed,
    )
    metadata = train(settings, args.run_dir, args.out)
    print(f"done: best epoch {metadata.get('best_epoch')}, validation {metadata.get('validation', {})}")
    return 0


SUBCOMMANDS = (_add_train,)


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
    return args.func(args)
