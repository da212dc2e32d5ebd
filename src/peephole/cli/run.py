"""``peephole run DATASET --out RUN``: explain every item of a dataset into a resumable run folder."""

from __future__ import annotations

import argparse
import json
import sys

from peephole.cli.explain import DEVICE_HELP, PROMPT_FLAGS, TASK_FLAGS
from peephole.errors import PeepholeError
from peephole.modalities import MODALITIES
from peephole.tasks import task_with
from peephole.terminal import escaping, safe


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "run",
        help="explain a whole dataset (resumable; local or Ray)",
        description="Explain every item of DATASET (a folder of images, a CSV, TSV, JSON Lines or Parquet table of "
        "image paths or sentences, a .txt file of sentences, an .npy/.npz array of sequences (of images for an image "
        "model) or a folder of .npy files; a CSV of numeric rows with --modality sequence) into the run folder --out. "
        "Running the same command again resumes: done items are skipped, failed ones retried. Exit code 0: all "
        "explained; 1: some items failed; 2: nothing ran (bad settings).",
    )
    p.add_argument("dataset", metavar="DATASET")
    p.add_argument("--out", required=True, help="the run folder (created, or resumed when it exists)")
    p.add_argument(
        "--model",
        default=None,
        help="a model name, FILE.onnx, or package.module:factory; unset: the modality's default model (images: "
        "efficientnet-lite0, texts: vader)",
    )
    p.add_argument(
        "--modality", default=None, choices=sorted(MODALITIES), help="the input kind; unset: the model's, else the dataset's"
    )
    p.add_argument(
        "--method", default=None, help="a registered method (peephole.registry.METHODS); unset: pami-path on images, pami else"
    )
    for flag, spec in {**TASK_FLAGS, **PROMPT_FLAGS}.items():
        p.add_argument(flag, **spec)
    p.add_argument("--targets", default="predicted", help="predicted (the --top-k classes), true (the labels) or 3,17")
    p.add_argument("--top-k", type=int, default=1, help="with --targets predicted: how many classes (default 1)")
    p.add_argument("--column", default=None, help="table column of image paths or sentences (.npz: the array of inputs)")
    p.add_argument("--label-column", default=None, help="table column (.npz: array) of true labels (class index or name)")
    p.add_argument("--size", type=int, default=224, help="images: shorter side resized to SIZE, centre-cropped (0: keep)")
    p.add_argument(
        "--metrics",
        default="",
        help="per-item metrics, e.g. insertion,deletion (where the modality has curves); each curve costs its own model "
        "queries: about 225 per 224x224 image, so insertion,deletion adds about 450 per item",
    )
    p.add_argument("--option", action="append", default=[], metavar="KEY=VALUE", help="a method option (JSON value)")
    p.add_argument("--batch-size", type=int, default=None)
    p.add_argument("--device", default=None, help=DEVICE_HELP)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--output", default=None, choices=("probs", "logits", "scores"), help="what a factory's callable returns")
    p.add_argument("--no-retry", action="store_true", help="report failed items of an earlier session instead of retrying")
    p.add_argument("--engine", default="local", choices=("local", "ray"))
    p.add_argument("--address", default=None, help="Ray: the cluster address (default: start a local Ray)")
    p.add_argument("--num-actors", type=int, default=2, help="Ray: actors, each loading the model once")
    p.add_argument("--num-cpus", type=float, default=1, help="Ray: CPUs per actor")
    p.add_argument("--num-gpus", type=float, default=0, help="Ray: GPUs per actor (1: one actor per GPU)")
    p.add_argument("--export", default=None, metavar="FILE", help="also write the per-item table (.csv or .parquet)")
    p.add_argument("--report", action="store_true", help="also write the HTML report (RUN/report/index.html)")
    p.add_argument(
        "--open",
        action="store_true",
        help="write the HTML report and open it in a browser when there is one (else print its path)",
    )
    p.add_argument("--quiet", action="store_true", help="no progress bar")
    p.set_defaults(func=run)


def options(args: argparse.Namespace) -> dict[str, object]:
    """``--option key=value`` pairs; values are JSON when they parse (numbers, lists, true), else strings. A key
    that is an argument of ``peephole.run`` (``out``, ``targets``, ``model``...) is an error naming its flag."""
    import peephole
    from peephole.batch.work import check_not_arguments

    out: dict[str, object] = {}
    for kv in args.option:
        k, sep, v = kv.partition("=")
        if not sep:
            raise PeepholeError(f"--option {kv!r}: write KEY=VALUE")
        try:
            out[k] = json.loads(v)
        except json.JSONDecodeError:
            out[k] = v
    flags = {k: f"--{k.replace('_', '-')}" for k in vars(args)}
    check_not_arguments(
        out, peephole.run, {**flags, "dataset": "the DATASET argument", "retry_failed": "--no-retry", "progress": "--quiet"}
    )
    return out


@escaping  # everything the command prints escaped: names it was given (files, item ids) cannot drive the terminal
def run(args: argparse.Namespace) -> int:
    import peephole
    from peephole.batch.report import open_in_browser, write_report
    from peephole.batch.runner import rate
    from peephole.batch.work import modality_for
    from peephole.interrupts import InterruptGuard
    from peephole.pipeline import check_seed
    from peephole.store.runs import check_export

    try:
        targets = args.targets if args.targets in ("predicted", "true") else [int(t) for t in args.targets.split(",")]
    except ValueError:
        print(safe(f"error: --targets is predicted, true or class indices like 3,17; got {args.targets!r}"), file=sys.stderr)
        return 2
    items = None
    with InterruptGuard() as guard:  # a Ctrl-C that a finaliser swallowed still stops before the next item
        try:
            check_seed(args.seed)
            if args.export:
                check_export(args.export)  # before the run, not after it
            model = args.model or modality_for(None, args.modality).default_model
            if model is None:
                raise PeepholeError(f"{args.modality} inputs have no default model: name one (--model)")
            r = peephole.run(
                model,
                args.dataset,
                args.method,
                out=args.out,
                targets=targets,
                top_k=args.top_k,
                modality=args.modality,
                column=args.column,
                label_column=args.label_column,
                size=args.size or None,
                batch_size=args.batch_size,
                device=args.device,
                seed=args.seed,
                metrics=[m for m in args.metrics.split(",") if m],
                output=args.output,
                task=task_with(args.task, args.threshold, args.segments),
                queries=args.query,
                template=args.template,
                retry_failed=not args.no_retry,
                progress=not args.quiet,
                engine=args.engine,
                address=args.address,
                num_actors=args.num_actors,
                num_cpus=args.num_cpus,
                num_gpus=args.num_gpus,
                **options(args),
            )
            items = iter(r)
            for _ in items:
                guard.check()
            guard.check()  # pressed during the last item
            s = r.summary
        except PeepholeError as exc:
            print(safe(f"error: {exc}"), file=sys.stderr)
            return 2
        except KeyboardInterrupt:
            if items is not None:
                items.close()  # the run's own clean-up: the commit in flight finishes, the session is recorded
            s = r.summary if items is not None else {}
            if not s:  # stopped before the run's loop began
                print(safe(f"interrupted before any item was explained; the same command resumes -> {args.out}"), file=sys.stderr)
                return 130
            print(
                safe(
                    f"interrupted: {s['done']} of {s['total']} items done ({s['explained_now']} in this session); "
                    f"the same command resumes -> {args.out}"
                ),
                file=sys.stderr,
            )
            return 130
    print(
        safe(
            f"{s['done']} of {s['total']} items explained, {s['failed']} failed"
            + (f", {s['nothing_to_explain']} with nothing to explain (no boxes found)" if s["nothing_to_explain"] else "")
            + f" ({s['skipped']} done before this session; "
            f"{s['explained_now'] + s['failed_now']} items in {s['seconds']:.1f} s, {rate(s['items_per_second'])}) "
            f"-> {args.out}"
        )
    )
    if s["elsewhere"]:
        print(safe(f"{s['elsewhere']} items left to another run over {args.out} (it claimed or finished them first)"))
    try:
        if args.export:
            print(safe(f"wrote {r.store.export(args.export)}"))
        if args.report or args.open:
            index = write_report(r.store)
            opened = args.open and open_in_browser(index)
            print(
                safe(
                    f"wrote {index}"
                    + (" (opened in a browser)" if opened else f" (open it in a browser: {index.resolve().as_uri()})")
                )
            )
    except (PeepholeError, OSError) as exc:  # the run is kept: `peephole report RUN` writes the report again
        print(safe(f"error: {exc}"), file=sys.stderr)
        return 2
    return 1 if s["failed"] else 0
