"""``peephole fill-in MODEL.pt``: fill-in-the-blanks class prototypes and progressive filling (Deelaka et al., 2024)."""

from __future__ import annotations

import argparse
import sys

import numpy as np

from peephole.core.query import to_numpy
from peephole.errors import PeepholeError
from peephole.terminal import safe
from peephole_lab.data.model_files import MODEL_HELP, TRUST_HELP


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "fill-in",
        help="class prototypes E[T(Δx)] and progressive filling of an MNIST CNN",
        description="Fill in the blanks: prototypes from masked MNIST validation images of every class, "
        "and each class drawn on a blank canvas by 4 progressive 25% masks.",
    )
    p.add_argument("model", metavar="MODEL.pt", help=MODEL_HELP)
    p.add_argument("--trust-pickle", action="store_true", help=TRUST_HELP)
    p.add_argument("--n", type=int, default=300, help="images averaged (default 300)")
    p.add_argument("--n-masks", type=int, default=2, help="random masks per image (default 2)")
    p.add_argument("--ratio", type=float, default=0.5, help="mask ratio η (default 0.5)")
    p.add_argument("--patch-size", type=int, default=4)
    p.add_argument("--keep", type=float, default=0.2, help="fraction T keeps (default 0.2)")
    p.add_argument("--order", type=int, default=1, choices=(1, 2))
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--figure", default=None, metavar="FILE.png")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    import torch

    from peephole.api import explain
    from peephole.modalities.image.view import grid
    from peephole_lab.data import load_mnist
    from peephole_lab.data.model_files import load_model
    from peephole_lab.systems.fill_in_blanks import prototypes

    try:
        net = load_model(args.model, args.trust_pickle)
        x = load_mnist("val", args.n)[0]
        e = prototypes(
            net,
            x,
            n_masks=args.n_masks,
            ratio=args.ratio,
            patch_size=args.patch_size,
            keep=args.keep,
            order=args.order,
            seed=args.seed,
            progress=True,
        )
        f = explain(
            net,
            np.zeros((1, 28, 28), np.float32),
            method="fill-in-the-blanks",
            targets=e.targets,
            patch_size=args.patch_size,
            order=args.order,
            seed=args.seed,
        )
    except PeepholeError as exc:
        print(safe(f"error: {exc}"), file=sys.stderr)
        return 2
    with torch.no_grad():
        filled = to_numpy(torch.softmax(net(torch.from_numpy(f.extras["images"][:, -1])), 1))
    proto_probs = e.extras["prototype_probabilities"]
    proto_pred, fill_pred = proto_probs.argmax(1), filled.argmax(1)
    print(safe(f"prototypes classified as their class: {(proto_pred == np.asarray(e.targets)).sum()} of {len(e.targets)}"))
    print(safe(f"blank canvases filled into their class: {(fill_pred == np.asarray(e.targets)).sum()} of {len(e.targets)}"))
    if args.figure:
        rows = [list(e.extras["images"][:, 0]), list(f.extras["images"][:, -1, 0])]
        titles = [
            [f"proto {t}→{p} ({proto_probs[i, p]:.2f})" for i, (t, p) in enumerate(zip(e.targets, proto_pred))],
            [f"fill {t}→{p} ({filled[i, p]:.2f})" for i, (t, p) in enumerate(zip(e.targets, fill_pred))],
        ]
        print(safe(f"wrote {grid(rows, titles, args.figure, ['E[T(Δx)]', 'progressive'])}"))
    return 0
