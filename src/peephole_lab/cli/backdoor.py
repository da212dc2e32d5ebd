"""``peephole backdoor MODEL.pt``: scan every class's input-agnostic map for a trigger (BadNets-style backdoor)."""

from __future__ import annotations

import argparse
import sys

from peephole.errors import PeepholeError
from peephole.terminal import safe
from peephole_lab.cli.saliency import add_common, options


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "backdoor",
        help="flag the classes of a torch classifier whose saliency map shows a trigger",
        description="Backdoor scan: input-agnostic map and fidelity of every class, concentration and "
        "robust anomaly score; classes above --threshold are flagged.",
    )
    add_common(p, samples=None)
    p.add_argument("--threshold", type=float, default=None, help="flag classes with a larger anomaly (default: the library's)")
    p.add_argument("--compare", default=None, metavar="OTHER.pt", help="also scan this model and put it in the figure")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from peephole.modalities.image.view import grid
    from peephole_lab.data.model_files import load_model
    from peephole_lab.systems.backdoor import detect_backdoor

    reports = []
    try:
        for path in [args.model] + ([args.compare] if args.compare else []):
            net = load_model(path, args.trust_pickle)
            th = {} if args.threshold is None else {"threshold": args.threshold}
            r = detect_backdoor(net, class_names=[str(i) for i in range(10)], **th, **options(args))
            reports.append((path, r))
    except PeepholeError as exc:
        print(safe(f"error: {exc}"), file=sys.stderr)
        return 2
    for path, r in reports:
        print(safe(f"{path}:\n{r.table()}"))
        print(safe(f"  flagged: {r.flagged if r.flagged else 'none'}\n"))
    if args.figure:
        rows, titles, labels = [], [], []
        for path, r in reports:
            rows.append(list(r.explanation.maps))
            titles.append([f"{t}: a={a:.1f}{' *' if t in r.flagged else ''}" for t, a in zip(r.targets, r.anomaly)])
            labels.append(path.rsplit("/", 1)[-1])
        print(safe(f"wrote {grid(rows, titles, args.figure, labels, cmap='magma')}"))
    return 0
