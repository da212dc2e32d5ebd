"""``peephole explainer-digits --out DIR``: the Explainer on real MNIST digits pasted on textured canvases —
classifier, Explainer (paper's loss), Explainer distilled from PAMI, and the side-by-side table with PAMI,
RISE, Grad-CAM and KernelSHAP on the same test canvases (docs/systems.md)."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from peephole.errors import PeepholeError
from peephole.terminal import safe


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "explainer-digits",
        help="the Explainer vs per-image methods on MNIST digit canvases",
        description="Build (cached) canvases of 2–3 MNIST digits, train the multi-label classifier, the "
        "Explainer and the PAMI-distilled Explainer, and print the side-by-side table on the test canvases.",
    )
    p.add_argument("--out", default="peephole-explainer-digits", help="folder for the networks, table.md, report.json")
    p.add_argument("--n-train", type=int, default=4000)
    p.add_argument("--n-explainer", type=int, default=None, help="training canvases for the Explainer (default: all)")
    p.add_argument("--n-val", type=int, default=500)
    p.add_argument("--n-test", type=int, default=500)
    p.add_argument("--size", type=int, default=48, help="canvas side in pixels (default 48)")
    p.add_argument("--digit-side", type=int, nargs=2, default=(18, 26), metavar=("MIN", "MAX"), help="pasted digit side")
    p.add_argument("--n-compare", type=int, default=30, help="test canvases in the side-by-side table")
    p.add_argument("--n-teacher", type=int, default=300, help="training canvases with PAMI maps (0: no distilled row)")
    p.add_argument("--methods", default="PAMI,RISE,Grad-CAM,KernelSHAP", help="per-image methods, comma-separated")
    p.add_argument("--epochs", type=int, default=20, help="Explainer epochs (early stopping on validation)")
    p.add_argument("--arch", default="backbone", choices=("backbone", "unet"), help="Explainer architecture")
    p.add_argument("--width", type=int, default=8)
    p.add_argument("--depth", type=int, default=3, help="U-Net poolings (--arch unet)")
    p.add_argument("--lr", type=float, default=None, help="default 1e-2 (preserve-destroy), 3e-3 (paper, distillation)")
    p.add_argument("--batch-size", type=int, default=None, help="default 8 (preserve-destroy), 32 (paper)")
    p.add_argument(
        "--objective",
        default="preserve-destroy",
        choices=("preserve-destroy", "paper"),
        help="Dabkowski & Gal's per-class preserve/destroy objective (default) or Stalder et al.'s loss",
    )
    p.add_argument("--fill", default=None, choices=("median", "blur", "black"), help="preserve-destroy: a removed pixel's fill")
    p.add_argument("--lambda-tv", type=float, default=None, help="preserve-destroy: weight of the masks' TV")
    p.add_argument("--lambda-a", type=float, default=None, help="preserve-destroy: weight of the masks' area")
    p.add_argument("--min-area", type=float, default=None, help="paper: area loss, top fraction pushed to 1")
    p.add_argument("--max-area", type=float, default=None, help="paper: area loss, beyond this fraction pushed to 0")
    p.add_argument(
        "--lambda-n",
        type=float,
        default=None,
        help="weight of the absent classes' masks (default: 150 preserve-destroy, ten digits; 0.3 paper)",
    )
    p.add_argument(
        "--ramp-epochs",
        type=int,
        default=None,
        help="preserve-destroy: epochs over which the absent weight rises from --lambda-n-from to --lambda-n (default 10)",
    )
    p.add_argument("--lambda-n-from", type=float, default=None, help="preserve-destroy: the ramp's first weight (default 50)")
    p.add_argument("--clf-epochs", type=int, default=15)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--cache", default=None, help="cache folder (default $PEEPHOLE_CACHE or ~/.cache/peephole)")
    p.add_argument("--figure", default=None, metavar="FILE.png")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from peephole_lab.systems.explainer.digits import TEN_DIGITS, ExplainerConfig, digit_experiment

    given = {
        "min_area": args.min_area,
        "max_area": args.max_area,
        "lambda_n": args.lambda_n,
        "fill": args.fill,
        "lambda_tv": args.lambda_tv,
        "lambda_a": args.lambda_a,
        "ramp_epochs": args.ramp_epochs,
        "lambda_n_from": args.lambda_n_from,
    }
    preset = TEN_DIGITS if args.objective == "preserve-destroy" else {}
    try:
        config = ExplainerConfig(
            arch=args.arch,
            objective=args.objective,
            width=args.width,
            depth=args.depth,
            epochs=args.epochs,
            lr=args.lr,
            batch_size=args.batch_size,
            **{**preset, **{k: v for k, v in given.items() if v is not None}},
        )
        report = digit_experiment(
            args.out,
            config,
            n_train=args.n_train,
            n_val=args.n_val,
            n_test=args.n_test,
            n_explainer=args.n_explainer,
            n_compare=args.n_compare,
            n_teacher=args.n_teacher,
            size=args.size,
            scale=tuple(args.digit_side),
            methods=tuple(m for m in args.methods.split(",") if m),
            clf_epochs=args.clf_epochs,
            seed=args.seed,
            cache_dir=args.cache,
            figure=args.figure,
            progress=True,
        )
    except PeepholeError as exc:
        print(safe(f"error: {exc}"), file=sys.stderr)
        return 2
    print(safe(json.dumps({k: v for k, v in report.items() if k != "side_by_side"}, indent=1)))
    print(safe((Path(args.out) / "table.md").read_text()))
    return 0
