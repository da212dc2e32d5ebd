"""``peephole explain INPUT...``: maps of the top classes of images, texts or sequences (PAMI or any registered
method), a picture or page per target and the whole result as ``.npz`` (``peephole.load``). One code path for
every input kind: the modality reads the input, loads the model and says what the terminal shows."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from tqdm.auto import tqdm

from peephole.errors import InputError, PeepholeError
from peephole.modalities import MODALITIES
from peephole.modalities.items import input_lines, is_folder
from peephole.pipeline import DEFAULT_TOP_K
from peephole.tasks import TASKS, task_with
from peephole.terminal import safe


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "explain",
        help="explain a classifier's prediction on images, texts or sequences",
        description="Explain inputs (default method: the modality's, PAMI path on images; --method pami for the paper's "
        "keep-one PAMI). INPUT is an image file or a shipped photo such as skimage:chelsea (see "
        "peephole.modalities.image.samples), a text (quote it), or a sequence file (.npy, .csv); '-' reads one input "
        "per line from stdin; URLs are not fetched. The input kind is --modality, else what the model declares, else "
        f"{next(iter(MODALITIES))}. Each input's files are named by its stem (made unique: cat, cat-2, ...); "
        "--out/manifest.json says which input made which file, and a re-run into the same folder first removes the "
        "files the previous manifest lists.",
        formatter_class=argparse.ArgumentDefaultsHelpFormatter,
    )
    p.add_argument("inputs", nargs="+", metavar="INPUT")
    p.add_argument("--modality", default=None, choices=sorted(MODALITIES), help="the input kind; unset: the model's")
    p.add_argument(
        "--model",
        default=None,
        help="a model name (efficientnet-lite0, vader, minilm), FILE.onnx, a Hugging Face folder (an image classifier or "
        "detector, or a text classifier) or package.module:factory; unset: the modality's default model (images: "
        "efficientnet-lite0, texts: vader)",
    )
    p.add_argument(
        "--output",
        default=None,
        choices=("probs", "logits", "scores"),
        help="what a FILE.onnx returns; unset: read from the file (a final Softmax means probs, else logits)",
    )
    p.add_argument(
        "--layout", default=None, choices=("nchw", "nhwc"), help="a FILE.onnx's input layout; unset: from its input shape"
    )
    p.add_argument(
        "--normalise",
        default=None,
        choices=("imagenet", "tflite", "none", "processor"),
        help="a FILE.onnx's input normalisation (processor: the preprocessor_config.json beside it); unset: from the "
        "file, else its folder's processor, else imagenet",
    )
    p.add_argument(
        "--method",
        default=None,
        help="a registered method (see peephole.registry.METHODS); unset: the modality's default; pami: the paper's PAMI",
    )
    p.add_argument("--backend", default=None, choices=("onnx", "torch"), help="for efficientnet-lite0; unset: onnx")
    for flag, spec in {**TASK_FLAGS, **PROMPT_FLAGS}.items():
        p.add_argument(flag, **spec)
    add_common(p)
    p.add_argument("--radius", type=int, default=None, help="window radius in pixels (window strategy; unset: 40)")
    p.add_argument("--size", type=int, default=224, help="images: resize shorter side to SIZE and centre-crop (0: keep)")
    p.add_argument("--no-crop", action="store_true", help="images: resize without cropping")
    p.add_argument(
        "--allow-large", action="store_true", help="images: with --size 0, explain images above 640×640 pixels at full size"
    )
    p.add_argument(
        "--second-run",
        action="store_true",
        help="PAMI's second run on the segmented first map (the paper's; not recommended: no gain on held-out photos)",
    )
    p.add_argument("--batch-size", type=int, default=None)
    p.add_argument("--device", default=None, help=DEVICE_HELP)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--out", default="peephole-out", help="output folder")
    p.add_argument("--figure", action="store_true", help="also save a figure: the input and every target's map")
    p.set_defaults(func=run)


#: what the model's output means and what a text-prompted model reads: the flags explain and run share (explain-text:
#: the prompt flags), as data
TASK_FLAGS = {
    "--task": dict(
        default=None,
        choices=sorted(TASKS),
        help="what the model's output means; unset: the model's (haar-face, haar-cat, haar-body, dbnet-text: detection, "
        "every box found explained, one map per box; segmentation: each class over its region)",
    ),
    "--threshold": dict(
        type=float,
        default=None,
        help="detection: the score a box needs on the unperturbed image to be explained (implies --task detection); "
        "unset: the detector's own (0.5 for a transformers detector, 0.1 text-prompted), else every box",
    ),
    "--segments": dict(
        default=None,
        choices=("instance", "panoptic"),
        help="detection with a mask-classification or segmenting DETR folder (Mask2Former, OneFormer, "
        "DetrForSegmentation): explain its instances (unset) or its panoptic segments, things and stuff (implies "
        "--task detection)",
    ),
}
PROMPT_FLAGS = {
    "--query": dict(
        action="append",
        default=None,
        metavar="TEXT",
        help="what a text-prompted model's folder (CLIP, OWL-ViT, Grounding DINO, an NLI text model) tells apart or "
        "finds, e.g. 'a cat' (repeatable: each query is a class; a run records them with its settings)",
    ),
    "--template": dict(
        default=None,
        help="the prompt each --query is written into, with {} where it goes (CLIP, SigLIP: unset 'This is a photo of "
        "{}.'; an NLI text model: unset 'This example is {}.')",
    ),
}


def add_common(p: argparse.ArgumentParser, text: bool = False) -> None:
    """The flags ``peephole explain`` and ``peephole explain-text`` share (explain-text: the text defaults)."""
    p.add_argument(
        "--partition",
        "--strategy",
        dest="strategy",
        default="words" if text else None,
        help="the partition by name (images: superpixels, slic, slics, grid, window; texts: words, windows, phrases; "
        "sequences: windows, single); unset: the method's on that input (PAMI path on images: slics, or slic at "
        "--max-queries 50 or fewer)",
    )
    p.add_argument(
        "--masker",
        default="drop" if text else None,
        help="what hidden features become (images: blur, black, white, grey, mean; texts: drop or a token such as [MASK]; "
        "sequences: a number, mean, median); unset: the method's",
    )
    p.add_argument(
        "--window",
        default=None,
        help="texts: words per window (unset: 3); sequences: positions per window; images: the window's shape "
        "(circle, square); only with a window partition",
    )
    p.add_argument(
        "--stride",
        type=int,
        default=None,
        help="window stride (texts: words, unset 1; images: pixels, unset 6); only with windows",
    )
    p.add_argument("--top-k", type=int, default=DEFAULT_TOP_K, help="explain the K top predicted classes")
    p.add_argument("--target", action="append", help="explain this class, by index or name (repeatable)")
    p.add_argument("--html", default=None, help="also write one HTML page with every input's maps to this file")
    p.add_argument("--no-color", action="store_true", help="texts: print word[score] instead of ANSI colours")


#: The flags that set a method option: option -> the flag's attribute in the parsed arguments.
#: ``--device``'s help (explain and run).
DEVICE_HELP = (
    "where a torch model runs (cpu, cuda, cuda:1); a named model is loaded there (efficientnet-lite0: with --backend "
    "torch), a factory's module must already be there (never moved); unset: where its parameters are"
)

FLAGS = {
    "partition": "strategy",
    "masker": "masker",
    "second_run": "second_run",
    "radius": "radius",
    "stride": "stride",
    "window": "window",
}


def method_options(args: argparse.Namespace) -> dict[str, object]:
    """The options the given flags set (numbers given as text parsed); a flag the chosen method does not take is
    an error, never dropped."""
    from peephole.modalities import get_modality
    from peephole.registry import DEFAULT_METHODS, get_method

    set_ = {k: getattr(args, a, None) for k, a in FLAGS.items()}
    given = {k: v for k, v in set_.items() if v is not None and v is not False}  # unset: None, or a switch left off
    for k, v in given.items():
        if isinstance(v, str):
            try:
                parsed = json.loads(v)
            except json.JSONDecodeError:
                continue
            if isinstance(parsed, (int, float)) and not isinstance(parsed, bool):
                given[k] = parsed
    mod = get_modality(args.modality)
    method = args.method or DEFAULT_METHODS[mod.name]
    valid = get_method(method).options(mod)
    bad = [k for k in given if k not in valid]
    if bad:
        raise InputError(f"--{FLAGS[bad[0]].replace('_', '-')} is not an option of --method {method}")
    return given


def run(args: argparse.Namespace) -> int:
    import peephole
    from peephole.batch.report import fragment_page, fragments
    from peephole.batch.work import model_and_modality
    from peephole.interrupts import InterruptGuard
    from peephole.outputs import RunManifest, unique_stems
    from peephole.pipeline import check_seed, reference_scorer

    limits = {"size": 0, "top_k": 1, "radius": 1, "stride": 1, "batch_size": 1}
    for name, lo in limits.items():
        value = getattr(args, name, None)
        if value is not None and value < lo:
            print(safe(f"error: --{name.replace('_', '-')} must be >= {lo}, got {value}"), file=sys.stderr)
            return 2
    try:
        inputs = input_lines(sys.stdin.buffer.read()) if args.inputs == ["-"] else args.inputs
        check_seed(args.seed)
        folders = [i for i in inputs if is_folder(i)]
        if folders:  # before the model loads: a dataset is peephole run's
            raise InputError(f"{folders[0]} is a folder; to explain every image in it use: peephole run {folders[0]} --out RUN")
        loader = {k: getattr(args, k, None) for k in ("backend", "output", "layout", "normalise", "device")}
        loader = (
            {k: v for k, v in loader.items() if v is not None}
            | ({"queries": args.query} if getattr(args, "query", None) else {})
            | ({"template": args.template} if getattr(args, "template", None) is not None else {})
        )
        task = task_with(*(getattr(args, k, None) for k in ("task", "threshold", "segments")))
        mod, model = model_and_modality(args.model, args.modality, args.output, loader)
        args.modality = mod.name
        options = method_options(args)
        settings = {k: v for k, v in vars(args).items() if k != "func"}
        manifest = RunManifest(args.out, f"peephole {args.command}", settings) if args.out else None
    except PeepholeError as exc:
        print(safe(f"error: {exc}"), file=sys.stderr)
        return 2
    work = {"size": args.size or None, "crop": not args.no_crop, "allow_large": args.allow_large} if mod.resizes else {}
    targets = [int(t) if t.lstrip("-").isdigit() else t for t in args.target] if args.target else None
    colour = not args.no_color and sys.stdout.isatty()
    kind = f"{mod.name}s"
    failed, pages = 0, []
    show = len(inputs) > 1
    stems = unique_stems(inputs)
    with InterruptGuard() as guard:  # a Ctrl-C that a weakref callback swallowed still stops at the next input
        try:
            for spec, stem in tqdm(list(zip(inputs, stems)), desc=kind, unit="input", disable=not show):
                guard.check()
                title = mod.input_title(spec)
                paths: list[Path] = []
                try:
                    e = peephole.explain(
                        model,
                        mod.load_item(spec, **work),
                        method=args.method,
                        modality=mod.name,
                        targets=targets,
                        top_k=args.top_k,
                        batch_size=args.batch_size,
                        seed=args.seed,
                        progress=args.out is not None,
                        allow_large=args.allow_large,
                        task=task,
                        device=getattr(args, "device", None),
                        **options,
                    )
                    if args.html:
                        pages += fragments(e)
                    if args.out:
                        paths = e.write(args.out, stem)
                    if args.out and args.figure:
                        fig = e.figure()
                        fig.savefig(Path(args.out) / f"{stem}_figure.png", dpi=110)
                        paths.append(Path(args.out) / f"{stem}_figure.png")
                except (PeepholeError, OSError, AttributeError) as exc:
                    failed += 1
                    msg = f"cannot write to {args.out}: {exc.strerror or exc}" if isinstance(exc, OSError) else str(exc)
                    named = msg.startswith((title, str(spec)))  # the message already names the input
                    tqdm.write(safe(f"error: {msg}" if named else f"error: {title}: {msg}"), file=sys.stderr)
                    if manifest is not None:
                        manifest.add(spec, stem, error=msg)
                    continue
                if manifest is not None:
                    manifest.add(spec, stem, paths, targets=e.targets, n_queries=e.n_queries, method=e.method)
                tqdm.write(safe(f"{title}: {e.n_queries} model queries, {e.timings['total']:.1f} s"))
                tqdm.write(safe("  prediction: " + ", ".join(f"{n} {p:.3f}" for _, n, p in e.top_classes(3))))
                for i, n, p in e.top_classes(max(args.top_k, 1)):
                    tqdm.write(safe(f"  {'*' if i in e.targets else ' '} {p:6.3f}  {i:4d}  {n}"))
                try:
                    details = mod.detail_lines(e, colour, reference_scorer(model, e.task))
                except PeepholeError as exc:  # the extra query a keep-one text result is shown against
                    details = [safe(f"  (shown without the hidden text's score: {exc})"), *mod.detail_lines(e, colour)]
                for line in details:
                    tqdm.write(line)
                if paths:
                    tqdm.write(safe(f"  wrote {len(paths)} files to {args.out}/ ({stem}_top*, {stem}.npz)"))
            guard.check()  # pressed during the last input
        except KeyboardInterrupt:
            if manifest is not None:
                manifest.finish("interrupted")
            done = len(manifest.data["items"]) if manifest is not None else "some"
            where = f"; see {args.out}/manifest.json" if args.out else ""
            print(safe(f"interrupted: {done} of {len(inputs)} {kind} done{where}"), file=sys.stderr)
            return 130
    if manifest is not None:
        manifest.finish("failed" if failed else "complete")
    if failed:
        print(safe(f"{failed} of {len(inputs)} {kind} failed"), file=sys.stderr)
    if args.html and pages:
        try:
            Path(args.html).write_text(fragment_page(pages), encoding="utf-8")
        except OSError as exc:
            print(safe(f"error: cannot write {args.html}: {exc.strerror or exc}"), file=sys.stderr)
            return 2
        print(safe(f"wrote {args.html}"))
    return 1 if failed else 0
