"""``peephole backdoor MODEL.pt``: scan every class of a classifier for a backdoor trigger (default: the input-agnostic
scan; ``--detector`` picks Neural Cleanse, TABOR or the combined scan of input-agnostic maps and Neural Cleanse)."""

from __future__ import annotations

import argparse
import sys

from peephole.errors import PeepholeError
from peephole.terminal import safe
from peephole_lab.cli.saliency import add_common, options
from peephole_lab.systems.backdoor import SCANS


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
    p.add_argument("--detector", default="input-agnostic", choices=SCANS, help="default: input-agnostic")
    p.add_argument("--epochs", type=int, default=None, help="Neural Cleanse / TABOR epochs (default: the library's)")
    p.add_argument("--threshold", type=float, default=None, help="flag classes with a larger anomaly (default: the library's)")
    p.add_argument("--compare", default=None, metavar="OTHER.pt", help="also scan this model and put it in the figure")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from peephole.modalities.image.view import grid
    from peephole_lab.data.model_files import load_model
    from peephole_lab.systems.backdoor import scan_backdoor

    reports = []
    try:
        for path in [args.model] + ([args.compare] if args.compare else []):
            net = load_model(path, args.trust_pickle)
            opts = options(args) if args.detector in ("input-agnostic", "combined") else {"seed": args.seed}
            reports.append((path, scan_backdoor(net, args.detector, args.threshold, args.epochs, **opts)))
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
