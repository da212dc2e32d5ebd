"""``peephole backdoor MODEL.pt``: scan every class of a classifier for a backdoor trigger (default: the input-agnostic
scan; ``--detector`` picks Neural Cleanse, TABOR or the combined scan of input-agnostic maps and Neural Cleanse)."""

from __future__ import annotations

import argparse
import sys
from typing import Any

from peephole.errors import PeepholeError
from peephole.terminal import safe
from peephole_lab.cli.saliency import add_common, options


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "backdoor",
        help="flag the classes of a torch classifier that a backdoor trigger sends inputs to",
        description="Backdoor scan. input-agnostic (default): concentration of each class's map; neural-cleanse / "
        "tabor: the size of each class's reverse-engineered trigger; combined: input-agnostic maps and Neural Cleanse "
        "masks of every class, their anomalies combined by a logistic regression fitted on part of the wide trojan zoo "
        "(not the default: it did not win on leave-one-family-out, docs/systems.md). Classes above --threshold are flagged.",
    )
    add_common(p, samples=None)
    p.add_argument("--detector", default="input-agnostic", choices=DETECTORS, help="default: input-agnostic")
    p.add_argument("--epochs", type=int, default=None, help="Neural Cleanse / TABOR epochs (default: the library's)")
    p.add_argument("--threshold", type=float, default=None, help="flag classes with a larger anomaly (default: the library's)")
    p.add_argument("--compare", default=None, metavar="OTHER.pt", help="also scan this model and put it in the figure")
    p.set_defaults(func=run)


DETECTORS = ("input-agnostic", "neural-cleanse", "tabor", "combined")


def scan(net: Any, args: argparse.Namespace) -> Any:
    """The report of ``args.detector`` on ``net``."""
    from peephole_lab.systems.backdoor import detect_backdoor
    from peephole_lab.systems.backdoor_combined import combined_scan
    from peephole_lab.systems.neural_cleanse import neural_cleanse
    from peephole_lab.systems.tabor import tabor

    th = {} if args.threshold is None else {"threshold": args.threshold}
    cleanse = {} if args.epochs is None else {"epochs": args.epochs}
    if args.detector == "input-agnostic":
        return detect_backdoor(net, **th, **options(args))
    if args.detector == "combined":
        return combined_scan(net, **th, cleanse=cleanse, **options(args))
    detector = neural_cleanse if args.detector == "neural-cleanse" else tabor
    return detector(net, seed=args.seed, **th, **cleanse)


def run(args: argparse.Namespace) -> int:
    from peephole.modalities.image.view import grid
    from peephole_lab.data.model_files import load_model

    reports = []
    try:
        for path in [args.model] + ([args.compare] if args.compare else []):
            reports.append((path, scan(load_model(path, args.trust_pickle), args)))
    except PeepholeError as exc:
        print(safe(f"error: {exc}"), file=sys.stderr)
        return 2
    for path, r in reports:
        print(safe(f"{path}:\n{r.table()}"))
        print(safe(f"  flagged: {r.flagged if r.flagged else 'none'}\n"))
    if args.figure and reports[0][1].explanation is None:
        print(safe(f"error: --figure draws input-agnostic maps; the {args.detector} scan makes none"), file=sys.stderr)
        return 2
    if args.figure:
        rows, titles, labels = [], [], []
        for path, r in reports:
            rows.append(list(r.explanation.maps))
            titles.append([f"{t}: a={a:.1f}{' *' if t in r.flagged else ''}" for t, a in zip(r.targets, r.anomaly)])
            labels.append(path.rsplit("/", 1)[-1])
        print(safe(f"wrote {grid(rows, titles, args.figure, labels, cmap='magma')}"))
    return 0
