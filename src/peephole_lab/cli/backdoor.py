"""``peephole backdoor MODEL.pt``: scan every class of a classifier for a backdoor trigger (default: TABOR, classes
flagged by the size of their restored trigger mask and its gap to the others', natural features of a class set aside;
``--detector`` picks TABOR's MAD index at the threshold calibrated on the wide trojan zoo or at the paper's, the
input-agnostic scan, Neural Cleanse or the combined scan of input-agnostic maps and Neural Cleanse)."""

from __future__ import annotations

import argparse
import sys

from peephole.errors import InputError, PeepholeError
from peephole.terminal import safe
from peephole_lab.cli.saliency import add_common, options
from peephole_lab.systems.backdoor import DEFAULT_SCAN, SCANS


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "backdoor",
        help="flag the classes of a torch classifier that a backdoor trigger sends inputs to",
        description="Backdoor scan. tabor-natural (default): TABOR's reverse-engineered trigger of each class, flagged "
        "when its mask is small and well below every other class's (log(H·W / L) + log(L_next / L) above the "
        "threshold: L² / L_next under 24.5 px of a 28×28 image), except classes whose trigger also sends held-out "
        "digits to the class on nine clean reference MNIST models (a natural feature; trained on first use); checked "
        "on a seventh and an eighth trojan zoo, docs/systems.md; tabor-gap: the same without the references (the previous "
        "default); tabor-size: the mask's size alone (under 33.1 px, the "
        "previous default); tabor-calibrated: the MAD "
        "index of TABOR's trigger score above the threshold calibrated on the wide trojan zoo; tabor: the same at the "
        "paper's threshold 2; "
        "neural-cleanse: the size of each class's reverse-engineered trigger; input-agnostic: concentration of each "
        "class's map; combined: input-agnostic maps and Neural Cleanse masks, their anomalies combined by a logistic "
        "regression. Classes above --threshold are flagged.",
    )
    add_common(p, samples=None)
    p.add_argument("--detector", default=DEFAULT_SCAN, choices=SCANS, help=f"default: {DEFAULT_SCAN}")
    p.add_argument("--epochs", type=int, default=None, help="Neural Cleanse / TABOR epochs (default: the library's)")
    p.add_argument("--threshold", type=float, default=None, help="flag classes with a larger anomaly (default: the library's)")
    p.add_argument("--compare", default=None, metavar="OTHER.pt", help="also scan this model and put it in the figure")
    p.add_argument(
        "--images",
        default=None,
        metavar="FILE.npy",
        help="clean images (n, C, H, W) in [0, 1] for the trigger-inversion scans (default: MNIST validation images, "
        "for 1×28×28 models only)",
    )
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from peephole.modalities.image.view import grid
    from peephole_lab.data.model_files import load_model
    from peephole_lab.systems.backdoor import scan_backdoor

    reports = []
    try:
        if args.images is not None and args.detector == "input-agnostic":
            raise InputError("--images is for the trigger-inversion scans; the input-agnostic scan takes --samples")
        for path in [args.model] + ([args.compare] if args.compare else []):
            net = load_model(path, args.trust_pickle)
            opts = options(args) if args.detector in ("input-agnostic", "combined") else {"seed": args.seed}
            opts.update({} if args.images is None else {"images": args.images})
            opts.update({} if args.shape is None else {"shape": tuple(args.shape)})
            reports.append((path, scan_backdoor(net, args.detector, args.threshold, args.epochs, **opts)))
    except PeepholeError as exc:
        print(safe(f"error: {exc}"), file=sys.stderr)
        return 2
    for path, r in reports:
        print(safe(f"{path}:\n{r.table()}"))
        print(safe(f"  flagged: {r.flagged if r.flagged else 'none'}\n"))
    if args.figure:
        rows, titles, labels = [], [], []
        for path, r in reports:
            rows.append(r.figure_images())
            titles.append([f"{t}: a={a:.1f}{' *' if t in r.flagged else ''}" for t, a in zip(r.targets, r.anomaly)])
            labels.append(path.rsplit("/", 1)[-1])
        print(safe(f"wrote {grid(rows, titles, args.figure, labels, cmap='magma')}"))
    return 0
