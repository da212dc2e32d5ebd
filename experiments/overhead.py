"""PAMI overhead: wall time ÷ time of the same number of bare model forward passes, per PAMI variant.

The bare passes are interleaved with PAMI's own, batch by batch: every time PAMI calls the model
on a batch of B perturbed images, the benchmark also calls the same model adapter on a ready-made
batch of B images and times that call alone (its time is then taken out of PAMI's wall time). Both
sides therefore see the same machine load, which matters on a shared, noisy machine.

Variants: Strategy II (``superpixels``), Strategy I (``window``), adaptive PAMI at a quarter of Strategy
II's queries (``adaptive``) and PAMI path (``pami-path``, the default image explainer).

    python experiments/overhead.py [--backend onnx|torch] [--images skimage:chelsea ...] [--batch-size 16]
        [--variants superpixels window adaptive pami-path]
"""

from __future__ import annotations

import argparse
import os
import platform
import time

import numpy as np

import peephole
from peephole.evaluation.bare import BareTwin
from peephole.modalities.image.io import load_image

#: variant -> (method, options)
VARIANTS = {
    "superpixels": ("pami", {"partition": "superpixels"}),
    "window": ("pami", {"partition": "window"}),
    "adaptive": ("pami", {"partition": "superpixels", "max_queries": 115}),
    "pami-path": ("pami-path", {}),
}
DEFAULT_IMAGES = ["skimage:chelsea", "skimage:coffee", "skimage:motorcycle", "sklearn:china", "matplotlib:grace_hopper"]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--backend", default="onnx", choices=("onnx", "torch"))
    ap.add_argument("--images", nargs="+", default=DEFAULT_IMAGES)
    ap.add_argument("--variants", nargs="+", default=list(VARIANTS), choices=list(VARIANTS))
    ap.add_argument("--batch-size", type=int, default=16)
    args = ap.parse_args()
    model = peephole.load_model("efficientnet-lite0", args.backend)
    imgs = [load_image(s, size=224) for s in args.images]
    for variant in args.variants:  # warm-up: lazy imports, ONNX session
        method, options = VARIANTS[variant]
        peephole.explain(model, imgs[0], method, batch_size=args.batch_size, **options)
    print(
        f"PAMI overhead: EfficientNet-Lite0 ({args.backend}), 224×224 centre crops of {len(imgs)} shipped photos, "
        f"batch size {args.batch_size}, {os.cpu_count()} CPU cores ({platform.machine()})\n"
    )
    print(
        "| variant | queries/image | PAMI s/image | bare forward s/image | overhead ratio "
        "| of which: segment s | masks+perturb s | aggregate s |"
    )
    print("|---|---|---|---|---|---|---|---|")
    for variant in args.variants:
        method, options = VARIANTS[variant]
        rows = []
        for img in imgs:
            twin = BareTwin(model, img, args.batch_size)
            t = time.perf_counter()
            e = peephole.explain(twin, img, method, batch_size=args.batch_size, **options)
            pami_s = time.perf_counter() - t - twin.bare_s
            tm = e.timings
            rows.append((e.n_queries, pami_s, twin.bare_s, tm["segment"], tm["perturb"] + tm["partition"], tm["aggregate"]))
        a = np.array(rows)
        q, p, b, seg, pert, agg = a.mean(axis=0)
        print(f"| {variant} | {q:.0f} | {p:.2f} | {b:.2f} | {p / b:.3f} | {seg:.2f} | {pert:.2f} | {agg:.2f} |")


if __name__ == "__main__":
    main()
