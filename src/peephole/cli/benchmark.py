"""``peephole benchmark --data DIR``: PAMI and the baselines scored by insertion, deletion or the pointing game."""

from __future__ import annotations

import argparse
import json
import sys

from peephole.errors import InputError, PeepholeError
from peephole.terminal import escaping, safe


def add_parser(sub: argparse._SubParsersAction) -> None:
    from peephole.evaluation.methods import METHOD_NAMES

    p = sub.add_parser(
        "benchmark",
        help="score explanation methods on a folder of real photos (PAMI, Table 4)",
        description="Insertion / deletion on an ImageNet sample folder (labels.csv), or the pointing game on a COCO "
        "boxes folder (classes.csv, labels/). --out is a run store (run.sqlite, items/: one explanation per image and "
        "method, peephole.load(OUT, item='IMAGE/METHOD'); the same command resumes it) with its views summary.md/.csv, "
        "items.csv, curves.png, grid.png and settings.json. "
        f"Methods: {', '.join(METHOD_NAMES)}. gradcam (in the default set) needs the "
        "gradients extra (Captum); without it the command stops before any work and says so.",
        formatter_class=argparse.ArgumentDefaultsHelpFormatter,
    )
    p.add_argument("--data", default=None, help="an imagenet-sample or coco-boxes folder (required unless --synthetic)")
    p.add_argument("--methods", default="pami-path,pami-superpixels,gradcam,random,centre", help="comma-separated method names")
    p.add_argument(
        "--metrics",
        default=None,
        help="insertion,deletion (ImageNet folder) or pointing (COCO folder); default: what the folder allows",
    )
    p.add_argument("--limit", type=int, default=None, help="score at most N (correctly classified) images")
    p.add_argument("--skip", type=int, default=0, help="start at the N-th image of the ImageNet folder")
    p.add_argument("--out", default="peephole-benchmark", help="output folder")
    p.add_argument("--model", default="efficientnet-lite0")
    p.add_argument("--step", type=int, default=None, help="pixels per curve step ; unset: 224 at 224×224, scaled")
    p.add_argument("--rise-masks", type=int, default=None, help="RISE masks N; unset: 8000")
    p.add_argument("--lime-samples", type=int, default=None, help="LIME samples; unset: 1000")
    p.add_argument(
        "--substrates",
        default=None,
        help="a substrate matrix, e.g. blur,grey: per substrate, insertion starts from it, deletion ends at it and every "
        "masking method masks with it (rows method@substrate)",
    )
    p.add_argument("--split", default=None, choices=("dev", "test"), help="even (dev) or odd (test) rows of labels.csv")
    p.add_argument(
        "--option",
        action="append",
        default=[],
        metavar="METHOD.KEY=VALUE",
        help="a method option (repeatable; VALUE is JSON or a string), e.g. kernel-shap.n_samples=500",
    )
    p.add_argument("--seed", type=int, default=0)
    card = p.add_argument_group(
        "report card",
        "--card: instead of the tables above, card.md/.html/.csv in --out: held-out-fill insertion/deletion, µFidelity, "
        "seed ρ and self-graded same-fill insertion/deletion per method, paired differences with --reference (docs/metrics.md)",
    )
    card.add_argument("--card", action="store_true", help="write the report card (an ImageNet folder or --synthetic)")
    card.add_argument(
        "--budget",
        type=int,
        default=None,
        help="queries per map: sets n_samples/n_masks/n_designs/max_queries, keep-one PAMI's segmentations or the windows' "
        "stride (docs/metrics.md)",
    )
    card.add_argument(
        "--budgets",
        default=None,
        metavar="B1,B2,...",
        help="the budget table: one card per budget in OUT/budget-B (bare forward passes timed for the overhead ratio) "
        "and OUT/budgets.md/.csv",
    )
    card.add_argument(
        "--reference", default=None, help="the method the card's paired differences are taken against (default: the first)"
    )
    card.add_argument("--stability", type=int, default=5, help="seed ρ on the first N images")
    card.add_argument(
        "--target",
        default="predicted",
        choices=("predicted", "true"),
        help="the class each map explains: the model's top-1 class on every photo, or the label on correctly classified "
        "photos only (the others skipped)",
    )
    card.add_argument(
        "--shuffle", action="store_true", help="visit the photos in a permutation of --seed (partial runs sample the split)"
    )
    card.add_argument(
        "--road",
        type=int,
        default=0,
        metavar="STEPS",
        help="add insertion/deletion with ROAD's noisy linear imputation, curves of STEPS steps (0: none; about as "
        "slow at 10 steps as a pixel-granularity curve with another fill)",
    )
    card.add_argument(
        "--masker",
        default=None,
        metavar="FILL",
        help="one fill (blur, grey, black, ...) for every method that hides pixels, so every row searches with it and is "
        "scored on the same held-out fill (default: each method's own, shown in the card's fill column)",
    )
    card.add_argument(
        "--redo",
        default="",
        metavar="METHODS",
        help="comma-separated methods whose stored items this invocation recomputes (once: a later resume without --redo "
        "keeps the new ones); items whose options or method code changed are redone without it",
    )
    card.add_argument(
        "--synthetic",
        type=int,
        default=None,
        metavar="N",
        help="card on N generated images with known features (a small CNN is trained first; needs torch): adds relevance "
        "mass and mask AUC",
    )
    p.set_defaults(func=run)


@escaping  # everything the command prints escaped: names it was given (files, item ids) cannot drive the terminal
def run(args: argparse.Namespace) -> int:
    import peephole
    from peephole.batch.work import check_not_arguments
    from peephole.evaluation.data import dataset_kind
    from peephole.evaluation.methods import MapMaker, check_installed
    from peephole.evaluation.runner import CURVE_METRICS, run_insertion_deletion, run_pointing
    from peephole.pipeline import check_seed

    methods = [m.strip() for m in args.methods.split(",") if m.strip()]
    try:
        check_seed(args.seed)
        check_installed(methods)
    except PeepholeError as exc:
        print(safe(f"error: {exc}"), file=sys.stderr)
        return 2
    options: dict[str, dict[str, object]] = {}
    if args.rise_masks is not None:  # 0 is passed on (and refused by RISE), not taken for "unset"
        options["rise"] = {"n_masks": args.rise_masks}
    if args.lime_samples is not None:
        options["lime"] = {"n_samples": args.lime_samples}
    for item in args.option:
        key, sep, value = item.partition("=")
        method, dot, name = key.rpartition(".")
        if not (sep and dot and method and name):
            print(safe(f"error: --option {item!r}: expected METHOD.KEY=VALUE"), file=sys.stderr)
            return 2
        try:
            parsed: object = json.loads(value)
        except json.JSONDecodeError:
            parsed = value
        options.setdefault(method, {})[name] = parsed
    try:  # the benchmark passes the model, the image, the targets and the seed itself
        check_not_arguments([k for o in options.values() for k in o], peephole.explain, {"model": "--model", "seed": "--seed"})
    except PeepholeError as exc:
        print(safe(f"error: {exc}"), file=sys.stderr)
        return 2
    if args.card:
        from peephole.evaluation.budgets import budget_table, parse_budgets
        from peephole.evaluation.card import make_card

        card = dict(
            data=args.data, synthetic=args.synthetic, model=args.model, options=options, seed=args.seed,
            reference=args.reference, split=args.split, stability=args.stability, step=args.step, limit=args.limit,
            target=args.target, shuffle=args.shuffle, redo=[m.strip() for m in args.redo.split(",") if m.strip()],
            log=lambda line: print(safe(line), file=sys.stderr, flush=True), road=args.road, masker=args.masker,
        )  # fmt: skip
        try:
            if args.budgets is not None:
                if args.budget is not None:
                    raise InputError("give --budget (one card) or --budgets (the budget table), not both")
                budget_table(methods, parse_budgets(args.budgets), args.out, **card)
            else:
                make_card(methods, args.out, budget=args.budget, **card)
        except PeepholeError as exc:
            print(safe(f"error: {exc}"), file=sys.stderr)
            return 2
        except KeyboardInterrupt:
            print(
                safe(f"interrupted: the items scored so far are kept in {args.out}/; the same command resumes"), file=sys.stderr
            )
            return 130
        from pathlib import Path

        print(safe(Path(args.out, "card.md" if args.budgets is None else "budgets.md").read_text()))
        return 0
    if args.data is None:
        print("error: --data is required (or --card --synthetic N)", file=sys.stderr)
        return 2
    maker = MapMaker(args.model, options, args.seed)
    try:
        kind = dataset_kind(args.data)
        metrics = args.metrics.split(",") if args.metrics else (list(CURVE_METRICS) if kind == "imagenet" else ["pointing"])
        if kind == "imagenet":
            bad = [m for m in metrics if m not in CURVE_METRICS]
            if bad:
                print(
                    safe(f"error: metric {bad[0]!r} needs a COCO boxes folder; an ImageNet folder allows insertion, deletion"),
                    file=sys.stderr,
                )
                return 2
            substrates = args.substrates.split(",") if args.substrates else None
            run_insertion_deletion(
                args.data,
                methods,
                args.out,
                metrics,
                args.limit,
                maker,
                step=args.step,
                skip=args.skip,
                substrates=substrates,
                split=args.split,
            )
        else:
            if metrics != ["pointing"]:
                print(safe("error: a COCO boxes folder allows only --metrics pointing"), file=sys.stderr)
                return 2
            run_pointing(args.data, methods, args.out, args.limit, maker)
    except PeepholeError as exc:
        print(safe(f"error: {exc}"), file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print(safe(f"interrupted: the images scored so far are kept in {args.out}/; the same command resumes"), file=sys.stderr)
        return 130
    from pathlib import Path

    print(safe(Path(args.out, "summary.md").read_text()))
    return 0
