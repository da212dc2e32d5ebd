"""``peephole zoo``: train (or load from the cache) the trojan zoo and print what each member learnt."""

from __future__ import annotations

import argparse
import sys

from peephole.errors import PeepholeError
from peephole.terminal import safe


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "zoo",
        help="train the trojan zoo: backdoored and clean small MNIST classifiers (cached)",
        description="Seeded pairs of backdoored / clean classifiers on real MNIST (3 architectures, 4 trigger "
        "patterns, random sizes, positions, poisoning rates and targets), cached outside the repository.",
    )
    p.add_argument("--root", default=None, help="cache folder (default $PEEPHOLE_CACHE/zoo/seed{seed}-{pairs})")
    p.add_argument("--pairs", type=int, default=28, help="backdoored/clean pairs (default 28: 14 dev + 14 held out)")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--n-train", type=int, default=10000, help="training images per model (default 10000)")
    p.add_argument("--epochs", type=int, default=2)
    p.add_argument("--wide", action="store_true", help="the wide zoo: 9 architecture and 10 trigger families")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from peephole_lab.data.zoo import build_zoo

    try:
        zoo = build_zoo(args.root, args.pairs, args.seed, args.n_train, args.epochs, progress=True, wide=args.wide)
    except PeepholeError as exc:
        print(safe(f"error: {exc}"), file=sys.stderr)
        return 2
    print(safe(zoo.summary()))
    kept = zoo.select("all")
    print(safe(f"{sum(m.trojan for m in kept)} backdoored and {sum(not m.trojan for m in kept)} clean models kept"))
    print(safe(f"wrote {zoo.manifest}"))
    return 0
