"""``peephole explainer --out DIR``: train an Explainer network (Stalder et al., NeurIPS 2022) for a small
classifier of synthetic multi-object canvases, evaluate it against the known object masks, draw a figure;
``--teacher pami`` trains it to reproduce PAMI maps instead and reports how close it gets."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from peephole.errors import PeepholeError
from peephole.terminal import safe


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "explainer",
        help="train and evaluate an Explainer network on synthetic canvases",
        description="Train a canvas classifier (cached in OUT), then an Explainer with the paper's loss; "
        "print IoU against the true object masks and the constant-mask baselines.",
    )
    p.add_argument("--out", default="peephole-explainer", help="folder for classifier.pt, explainer.pt, checkpoints/")
    p.add_argument("--size", type=int, default=24, help="canvas size in pixels (default 24)")
    p.add_argument("--n-train", type=int, default=1500)
    p.add_argument("--epochs", type=int, default=12)
    p.add_argument("--lr", type=float, default=5e-3)
    p.add_argument("--width", type=int, default=8, help="Explainer width (channels at full resolution)")
    p.add_argument("--depth", type=int, default=2, help="Explainer poolings")
    p.add_argument("--lambda-n", type=float, default=0.3, help="weight of mean(non-target mask) (paper: 0.3)")
    p.add_argument("--patience", type=int, default=5)
    p.add_argument("--teacher", default=None, choices=("pami",), help="distil PAMI maps instead of the paper's loss")
    p.add_argument("--n-teacher", type=int, default=200, help="training images with PAMI maps (--teacher pami)")
    p.add_argument("--colour-coded", action="store_true", help="each class also has its own colour (an easier task)")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--figure", default=None, metavar="FILE.png")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from peephole_lab.systems.explainer.experiment import canvas_experiment

    try:
        report = canvas_experiment(
            args.out,
            size=args.size,
            n_train=args.n_train,
            epochs=args.epochs,
            lr=args.lr,
            width=args.width,
            depth=args.depth,
            lambda_n=args.lambda_n,
            patience=args.patience,
            teacher=args.teacher,
            n_teacher=args.n_teacher,
            colour_coded=args.colour_coded,
            seed=args.seed,
            figure=args.figure,
        )
    except PeepholeError as exc:
        print(safe(f"error: {exc}"), file=sys.stderr)
        return 2
    print(safe(json.dumps(report, indent=1)))
    print(safe(f"wrote {Path(args.out) / 'explainer.pt'} and {Path(args.out) / 'checkpoints'}/"))
    return 0
