"""``peephole saliency MODEL.pt``: input-agnostic class maps (Akhtar & Jalwana, AAAI 2023) of a saved torch classifier."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

import numpy as np

from peephole.errors import PeepholeError
from peephole.terminal import safe
from peephole_lab.data.model_files import MODEL_HELP, TRUST_HELP


def add_common(p: argparse.ArgumentParser, samples: str | None = "uniform") -> None:
    p.add_argument("model", metavar="MODEL.pt", help=MODEL_HELP)
    p.add_argument("--trust-pickle", action="store_true", help=TRUST_HELP)
    p.add_argument(
        "--samples",
        default=samples,
        choices=("uniform", "gaussian", "mnist"),
        help="sample distribution: noise, or generic MNIST validation images of every class "
        f"(default {samples or 'mnist for 1×28×28 models, else uniform'})",
    )
    p.add_argument("--n-iter", type=int, default=None, help="iterations per class (default: the library's)")
    p.add_argument("--batch-size", type=int, default=32)
    p.add_argument("--eta", type=float, default=None, help="radius of the L2 ball (default 10%% of ‖1‖₂)")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument(
        "--shape",
        type=int,
        nargs=3,
        default=None,
        metavar=("C", "H", "W"),
        help="the model's input shape (default: probed from its first layer and common shapes)",
    )
    p.add_argument("--figure", default=None, metavar="FILE.png", help="write a figure of every class's ρ and map")


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "saliency",
        help="input-agnostic class saliency maps of a torch classifier",
        description="Input-agnostic saliency: one map per class, estimated from noise or generic images.",
    )
    add_common(p)
    p.add_argument("--classes", type=int, nargs="+", default=None, help="classes to map (default all)")
    p.add_argument("--out", default=None, help="folder for one .npy map per class")
    p.set_defaults(func=run)


def options(args: argparse.Namespace) -> dict[str, Any]:
    """The keyword arguments of ``peephole.explain(..., method='input-agnostic')`` these flags ask for."""
    opts = {
        "n_iter": args.n_iter,
        "batch_size": args.batch_size,
        "eta": args.eta,
        "seed": args.seed,
        "distribution": args.samples,
        "shape": None if args.shape is None else tuple(args.shape),
        "progress": True,
    }
    return {k: v for k, v in opts.items() if v is not None or k == "eta"}


def run(args: argparse.Namespace) -> int:
    from peephole.api import explain
    from peephole.modalities.image.view import grid
    from peephole_lab.data.model_files import load_model

    try:
        net = load_model(args.model, args.trust_pickle)
        e = explain(net, None, method="input-agnostic", targets=args.classes, **options(args))
    except PeepholeError as exc:
        print(safe(f"error: {exc}"), file=sys.stderr)
        return 2
    fidelity = e.extras["fidelity"]
    for t, f in zip(e.targets, fidelity):
        print(safe(f"class {t}: fidelity {f:.2f}"))
    if args.out:
        Path(args.out).mkdir(parents=True, exist_ok=True)
        for t, m in zip(e.targets, e.maps):
            np.save(Path(args.out) / f"saliency_class{t}.npy", m)
        print(safe(f"wrote {len(e.targets)} maps to {args.out}/"))
    if args.figure:
        titles = [[f"ρ {t} (fid {f:.2f})" for t, f in zip(e.targets, fidelity)], [f"map {t}" for t in e.targets]]
        print(safe(f"wrote {grid([list(e.extras['visuals']), list(e.maps)], titles, args.figure)}"))
    return 0
