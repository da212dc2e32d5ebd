"""PAMI overhead: wall time ÷ time of the same number of bare model forward passes, per PAMI variant.

The bare passes are interleaved with PAMI's own, batch by batch: every time PAMI calls the model
on a batch of B perturbed images, the benchmark also calls the same model adapter on a ready-made
batch of B images and times that call alone (its time is then taken out of PAMI's wall time). Both
sides therefore see the same machine load, which matters on a shared, noisy machine.

Variants: Strategy II (``superpixels``), Strategy I (``window``), adaptive PAMI at a quarter of Strategy
II's queries (``adaptive``) and PAMI path (``pami-path``, the default image explainer), each on a photo explained
for the first time (the kept segmentations cleared before each explanation); ``superpixels-again`` and
``adaptive-again``: the same on a photo segmented before (another method, budget or target explained it: its
label maps are kept, :mod:`peephole.modalities.image.segment_cache`).

``--repeats`` runs the whole table again that many times in the same process (the machine's load average printed
before each), then the median and range of each variant's ratio over the repeats.

    python experiments/overhead.py [--backend onnx|torch] [--images skimage:chelsea ...] [--batch-size 16]
        [--variants superpixels superpixels-again window adaptive adaptive-again pami-path] [--repeats 1]
"""

from __future__ import annotations

import argparse
import os
import platform
import time
from collections.abc import Iterator

import numpy as np

import peephole
from peephole.evaluation.bare import BareTwin
from peephole.modalities.image.io import load_image
from peephole.modalities.image.segment_cache import SEGMENTS
from peephole.modalities.image.superpixels import Superpixels

#: variant -> (method, options, on a photo segmented before)
VARIANTS = {
    "superpixels": ("pami", {"partition": "superpixels"}, False),
    "superpixels-again": ("pami", {"partition": "superpixels"}, True),
    "window": ("pami", {"partition": "window"}, False),
    "adaptive": ("pami", {"partition": "superpixels", "max_queries": 115}, False),
    "adaptive-again": ("pami", {"partition": "superpixels", "max_queries": 115}, True),
    "pami-path": ("pami-path", {}, False),
}
DEFAULT_IMAGES = ["skimage:chelsea", "skimage:coffee", "skimage:motorcycle", "sklearn:china", "matplotlib:grace_hopper"]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--backend", default="onnx", choices=("onnx", "torch"))
    ap.add_argument("--images", nargs="+", default=DEFAULT_IMAGES)
    ap.add_argument("--variants", nargs="+", default=list(VARIANTS), choices=list(VARIANTS))
    ap.add_argument("--batch-size", type=int, default=16)
    ap.add_argument("--repeats", type=int, default=1)
    args = ap.parse_args()
    model = peephole.load_model("efficientnet-lite0", args.backend)
    imgs = [load_image(s, size=224) for s in args.images]
    for variant in dict.fromkeys(v.removesuffix("-again") for v in args.variants):  # warm-up: imports, ONNX session
        method, options, _ = VARIANTS[variant]
        peephole.explain(model, imgs[0], method, batch_size=args.batch_size, **options)
    print(
        f"PAMI overhead: EfficientNet-Lite0 ({args.backend}), 224×224 centre crops of {len(imgs)} shipped photos, "
        f"batch size {args.batch_size}, {os.cpu_count()} CPU cores ({platform.machine()})",
        flush=True,
    )
    ratios: dict[str, list[float]] = {v: [] for v in args.variants}
    for r in range(args.repeats):
        print(f"\nrepeat {r + 1} of {args.repeats} (load average {os.getloadavg()[0]:.1f})\n")
        for variant, ratio in table(model, imgs, args.variants, args.batch_size):
            ratios[variant].append(ratio)
    if args.repeats > 1:
        print(f"\n| variant | overhead ratio, median of {args.repeats} | range |\n|---|---|---|")
        for variant, rs in ratios.items():
            print(f"| {variant} | {np.median(rs):.3f} | {min(rs):.3f}–{max(rs):.3f} |")


def table(model: object, imgs: list[np.ndarray], variants: list[str], batch_size: int) -> Iterator[tuple[str, float]]:
    """Print one table row per variant; yield each variant's overhead ratio."""
    print(
        "| variant | queries/image | PAMI s/image | bare forward s/image | overhead ratio "
        "| of which: segment s | masks+perturb s | aggregate s |"
    )
    print("|---|---|---|---|---|---|---|---|", flush=True)
    for variant in variants:
        method, options, segmented_before = VARIANTS[variant]
        rows = []
        for img in imgs:
            SEGMENTS.clear()
            if segmented_before:  # what explaining this photo before kept (untimed)
                Superpixels.from_image(img, seed=0)
            twin = BareTwin(model, img, batch_size)
            t = time.perf_counter()
            e = peephole.explain(twin, img, method, batch_size=batch_size, seed=0, **options)
            pami_s = time.perf_counter() - t - twin.bare_s
            tm = e.timings
            rows.append((e.n_queries, pami_s, twin.bare_s, tm["segment"], tm["perturb"] + tm["partition"], tm["aggregate"]))
        a = np.array(rows)
        q, p, b, seg, pert, agg = a.mean(axis=0)
        print(f"| {variant} | {q:.0f} | {p:.2f} | {b:.2f} | {p / b:.3f} | {seg:.2f} | {pert:.2f} | {agg:.2f} |", flush=True)
        yield variant, p / b


if __name__ == "__main__":
    main()
