"""``peephole explain IMAGE...``: maps of the top classes (PAMI or any registered image method), an overlay
PNG per target and the whole result as ``.npz`` (``peephole.load``)."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from tqdm.auto import tqdm

from peephole.errors import PeepholeError
from peephole.registry import DEFAULT_METHODS


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "explain",
        help="explain an image classifier's prediction on images",
        description="Explain images (default: PAMI path; --method pami for the paper's keep-one PAMI). "
        "IMAGE is a file or a shipped photo such as "
        "skimage:chelsea (see peephole.modalities.image.samples); URLs are not fetched. Each input's files are "
        "named by its stem (made unique: cat, cat-2, ...); --out/manifest.json says which input made which file, "
        "and a re-run into the same folder first removes the files the previous manifest lists.",
        formatter_class=argparse.ArgumentDefaultsHelpFormatter,
    )
    p.add_argument("images", nargs="+", metavar="IMAGE")
    p.add_argument("--model", default="efficientnet-lite0", help="efficientnet-lite0 or a FILE.onnx classifier")
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
        choices=("imagenet", "tflite", "none"),
        help="a FILE.onnx's input normalisation; unset: from the file, else imagenet",
    )
    p.add_argument(
        "--method",
        default=DEFAULT_METHODS["image"],
        help="a registered method (see peephole.registry.METHODS); pami: the paper's keep-one PAMI",
    )
    p.add_argument("--backend", default="onnx", choices=("onnx", "torch"), help="for efficientnet-lite0")
    p.add_argument("--strategy", default=None, choices=("superpixels", "window"), help="partition; unset: the method's")
    p.add_argument("--masker", default=None, choices=("blur", "black", "white", "grey", "mean"), help="unset: the method's")
    p.add_argument("--top-k", type=int, default=3, help="explain the K top predicted classes")
    p.add_argument("--target", action="append", help="explain this class, by index or name (repeatable)")
    p.add_argument("--size", type=int, default=224, help="resize shorter side to SIZE and centre-crop (0: keep)")
    p.add_argument("--no-crop", action="store_true", help="resize without cropping")
    p.add_argument("--allow-large", action="store_true", help="with --size 0, explain images above 640×640 pixels at full size")
    p.add_argument(
        "--second-run",
        action="store_true",
        help="PAMI's second run on the segmented first map (the paper's; not recommended: no gain on held-out photos)",
    )
    p.add_argument("--radius", type=int, default=None, help="window radius in pixels (window strategy; unset: 40)")
    p.add_argument("--stride", type=int, default=None, help="window stride in pixels (window strategy; unset: 6)")
    p.add_argument("--batch-size", type=int, default=None)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--out", default="peephole-out", help="output folder")
    p.add_argument("--figure", action="store_true", help="also save a figure: the image and every target's overlay")
    p.set_defaults(func=run)


#: The flags that set a method option: option -> the flag's attribute in the parsed arguments.
FLAGS = {"partition": "strategy", "masker": "masker", "second_run": "second_run", "radius": "radius", "stride": "stride"}


def method_options(args: argparse.Namespace) -> dict[str, object]:
    """The options the given flags set; a flag the chosen method does not take is an error, never dropped."""
    from peephole.errors import InputError
    from peephole.modalities import get_modality
    from peephole.registry import get_method

    set_ = {k: getattr(args, a) for k, a in FLAGS.items()}
    given = {k: v for k, v in set_.items() if v is not None and v is not False}  # unset: None, or a switch left off
    valid = get_method(args.method).options(get_modality("image"))
    bad = [k for k in given if k not in valid]
    if bad:
        raise InputError(f"--{FLAGS[bad[0]].replace('_', '-')} is not an option of --method {args.method}")
    return given


def run(args: argparse.Namespace) -> int:
    import peephole
    from peephole.interrupts import InterruptGuard
    from peephole.modalities.image.io import load_image
    from peephole.outputs import RunManifest, unique_stems

    limits = {"size": 0, "top_k": 1, "radius": 1, "stride": 1, "batch_size": 1}
    for name, lo in limits.items():
        value = getattr(args, name)
        if value is not None and value < lo:
            print(f"error: --{name.replace('_', '-')} must be >= {lo}, got {value}", file=sys.stderr)
            return 2
    try:
        model = peephole.load_model(args.model, args.backend, output=args.output, layout=args.layout, normalise=args.normalise)
        options = method_options(args)
        settings = {k: v for k, v in vars(args).items() if k != "func"}
        manifest = RunManifest(args.out, "peephole explain", settings)
    except PeepholeError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    targets = [int(t) if t.lstrip("-").isdigit() else t for t in args.target] if args.target else None
    failed = 0
    show = len(args.images) > 1
    stems = unique_stems(args.images)
    with InterruptGuard() as guard:  # a Ctrl-C that a weakref callback swallowed still stops at the next image
        try:
            for spec, stem in tqdm(list(zip(args.images, stems)), desc="images", unit="image", disable=not show):
                guard.check()
                try:
                    img = load_image(spec, size=args.size or None, crop=not args.no_crop, allow_large=args.allow_large)
                    e = peephole.explain(
                        model,
                        img,
                        method=args.method,
                        targets=targets,
                        top_k=args.top_k,
                        batch_size=args.batch_size,
                        seed=args.seed,
                        progress=True,
                        **options,
                    )
                    paths = e.write(args.out, stem)
                    if args.figure:
                        fig = e.figure()
                        fig.savefig(Path(args.out) / f"{stem}_figure.png", dpi=110)
                        paths.append(Path(args.out) / f"{stem}_figure.png")
                except (PeepholeError, OSError) as exc:
                    failed += 1
                    msg = f"cannot write to {args.out}: {exc.strerror or exc}" if isinstance(exc, OSError) else str(exc)
                    tqdm.write(f"error: {spec}: {msg}", file=sys.stderr)
                    manifest.add(spec, stem, error=msg)
                    continue
                manifest.add(spec, stem, paths, targets=e.targets, n_queries=e.n_queries, method=e.method)
                tqdm.write(f"{spec}: {e.n_queries} model queries, {e.timings['total']:.1f} s")
                for i, name, p in e.top_classes(max(args.top_k, 1)):
                    mark = "*" if i in e.targets else " "
                    tqdm.write(f"  {mark} {p:6.3f}  {i:4d}  {name}")
                tqdm.write(f"  wrote {len(paths)} files to {args.out}/ ({stem}_top*.png, {stem}.npz)")
            guard.check()  # pressed during the last image
        except KeyboardInterrupt:
            manifest.finish("interrupted")
            done = len(manifest.data["items"])
            print(f"interrupted: {done} of {len(args.images)} images done; see {args.out}/manifest.json", file=sys.stderr)
            return 130
    manifest.finish("failed" if failed else "complete")
    if failed:
        print(f"{failed} of {len(args.images)} images failed", file=sys.stderr)
    return 1 if failed else 0
