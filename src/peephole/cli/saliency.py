"""``peephole saliency MODEL.pt``: input-agnostic class maps (Akhtar & Jalwana, AAAI 2023) of a saved torch classifier."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from peephole.errors import PeepholeError


def add_common(p: argparse.ArgumentParser) -> None:
    p.add_argument("model", metavar="MODEL.pt", help="a classifier saved by 'peephole train-mnist'")
    p.add_argument(
        "--samples",
        default="uniform",
        choices=("uniform", "gaussian", "mnist"),
        help="sample distribution: noise, or generic MNIST validation images of every class (default uniform)",
    )
    p.add_argument("--n-iter", type=int, default=100)
    p.add_argument("--batch-size", type=int, default=32)
    p.add_argument("--eta", type=float, default=None, help="radius of the L2 ball (default 10%% of ‖1‖₂)")
    p.add_argument("--seed", type=int, default=0)
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
    from peephole.data import load_mnist

    dist: Any = load_mnist("val", 1000)[0] if args.samples == "mnist" else args.samples
    return {
        "n_iter": args.n_iter,
        "batch_size": args.batch_size,
        "eta": args.eta,
        "seed": args.seed,
        "distribution": dist,
        "progress": True,
    }


def grid(
    rows: Sequence[Sequence[np.ndarray]],
    titles: Sequence[Sequence[str]],
    path: str | Path,
    row_labels: Sequence[str] = (),
    cmap: str = "gray",
    vrange: tuple[float, float] | None = None,
) -> Path:
    """Save a grid of images (H×W maps in ``cmap``, each scaled to its own range unless ``vrange``; H×W×3 as RGB)."""
    import matplotlib

    matplotlib.use("Agg", force=False)
    import matplotlib.pyplot as plt

    n_rows, n_cols = len(rows), max(len(r) for r in rows)
    fig, axes = plt.subplots(n_rows, n_cols, figsize=(1.5 * n_cols, 1.6 * n_rows), squeeze=False)
    for i, row in enumerate(rows):
        for j in range(n_cols):
            ax = axes[i, j]
            ax.axis("off")
            if j < len(row):
                img = row[j]
                lo, hi = vrange if vrange is not None else (float(img.min()), float(img.max()))
                ax.imshow(
                    img,
                    cmap=None if img.ndim == 3 else cmap,
                    vmin=None if img.ndim == 3 else lo,
                    vmax=None if img.ndim == 3 else hi,
                )
                ax.set_title(titles[i][j], fontsize=7)
        if i < len(row_labels):
            axes[i, 0].text(
                -0.15, 0.5, row_labels[i], transform=axes[i, 0].transAxes, rotation=90, va="center", ha="right", fontsize=8
            )
    fig.tight_layout()
    out = Path(path)
    out.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(out, dpi=110)
    plt.close(fig)
    return out


def run(args: argparse.Namespace) -> int:
    from peephole.data import load_classifier
    from peephole.methods.input_agnostic import input_agnostic

    try:
        net = load_classifier(args.model)
        e = input_agnostic(net, targets=args.classes, **options(args))
    except PeepholeError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    for t, f in zip(e.targets, e.fidelity):
        print(f"class {t}: fidelity {f:.2f}")
    if args.out:
        Path(args.out).mkdir(parents=True, exist_ok=True)
        for t, m in zip(e.targets, e.maps):
            np.save(Path(args.out) / f"saliency_class{t}.npy", m)
        print(f"wrote {len(e.targets)} maps to {args.out}/")
    if args.figure:
        titles = [[f"ρ {t} (fid {f:.2f})" for t, f in zip(e.targets, e.fidelity)], [f"map {t}" for t in e.targets]]
        print(f"wrote {grid([list(e.visuals), list(e.maps)], titles, args.figure)}")
    return 0
