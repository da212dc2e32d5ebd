"""``peephole backdoor-eval``: run a backdoor detector over a split of the trojan zoo; write rates, ROC and
per-model results."""

from __future__ import annotations

import argparse
import sys

from peephole.errors import PeepholeError
from peephole.terminal import safe
from peephole_lab.systems.backdoor_eval import DETECTORS


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "backdoor-eval",
        help="detection, wrong-class and false-alarm rates of a backdoor detector on the trojan zoo",
        description="Scan every kept member of a zoo split; report the rates at the threshold, the ROC over "
        "the threshold (AUC, CSV, PNG) and the time per model.",
    )
    p.add_argument("--zoo", default=None, help="zoo manifest or folder (default: the cached default zoo)")
    p.add_argument("--split", default="heldout", choices=("dev", "heldout", "all"))
    p.add_argument(
        "--detector",
        default="input-agnostic",
        choices=DETECTORS,
        help="tabor-natural is peephole backdoor's default scan (default here: input-agnostic, as measured above)",
    )
    p.add_argument("--threshold", type=float, default=None, help="anomaly threshold (default: the detector's)")
    p.add_argument(
        "--samples",
        default=None,
        choices=("uniform", "gaussian", "mnist"),
        help="input-agnostic samples (default: mnist for 28×28)",
    )
    p.add_argument("--n-iter", type=int, default=None, help="input-agnostic iterations (default: the library's)")
    p.add_argument("--window", type=int, nargs="+", default=None, help="input-agnostic window(s): one evaluation each")
    p.add_argument("--epochs", type=int, default=None, help="Neural Cleanse / TABOR epochs (default: the library's)")
    p.add_argument("--steps", type=int, default=None, help="Neural Cleanse / TABOR mini-batches per epoch")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument(
        "--leave-one-out",
        default=None,
        choices=("pattern", "arch"),
        help="also: tune the threshold on all trigger (or architecture) families but one, report the one left out",
    )
    p.add_argument(
        "--calibrate",
        default=None,
        choices=("reference",),
        help="with --leave-one-out: standardise scores against the seen clean models of the same architecture",
    )
    p.add_argument("--max-false-alarms", type=float, default=1 / 6, help="false-alarm rate allowed when tuning (default 1/6)")
    p.add_argument("--out", default="backdoor-eval", help="folder for the JSON, ROC CSV and PNG (default backdoor-eval/)")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    import json
    from pathlib import Path

    from peephole_lab.data.zoo import build_zoo, load_zoo
    from peephole_lab.systems.backdoor_calibration import fit_reference
    from peephole_lab.systems.backdoor_eval import check_detector_options, evaluate_detector, leave_one_family_out, lofo_summary

    if args.detector == "input-agnostic":
        opts = {"distribution": args.samples, "n_iter": args.n_iter}
    else:
        opts = {"epochs": args.epochs, "steps": args.steps}
    opts = {k: v for k, v in opts.items() if v is not None}
    try:
        check_detector_options(args.detector, args.threshold, args.window, **opts)  # before the zoo is built
        zoo = load_zoo(args.zoo) if args.zoo else build_zoo()
        evals = evaluate_detector(
            zoo.select(args.split), args.detector, args.threshold, args.window, progress=True, seed=args.seed, **opts
        )
    except PeepholeError as exc:
        print(safe(f"error: {exc}"), file=sys.stderr)
        return 2
    for key, ev in evals.items():
        print(safe(ev.summary()))
        for r in ev.misses():
            print(
                safe(
                    f"  missed: {r.name} ({'target ' + str(r.target) if r.trojan else 'clean'}) "
                    f"flagged {r.flagged_at(ev.threshold)}"
                )
            )
        stem = f"{args.detector}_{args.split}" + (f"_{key.replace('=', '')}" if key else "")
        for path in ev.write(args.out, stem):
            print(safe(f"wrote {path}"))
        if args.leave_one_out:
            try:
                calibrate = fit_reference if args.calibrate else None
                out = leave_one_family_out(ev.results, args.leave_one_out, args.max_false_alarms, calibrate)
            except PeepholeError as exc:
                print(safe(f"error: {exc}"), file=sys.stderr)
                return 2
            print(safe(lofo_summary(out)))
            js = Path(args.out) / f"{stem}_lofo-{args.leave_one_out}{'-calibrated' if args.calibrate else ''}.json"
            js.write_text(json.dumps(out, indent=1, default=float))
            print(safe(f"wrote {js}"))
    return 0
