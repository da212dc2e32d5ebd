"""Where perturbed batches are built (host vs the model's device) and many images per call: images/s and the overhead
ratio of the default method (PAMI path), PAMI and RISE at one query budget, and Captum FeatureAblation, all on the
same eager-torch EfficientNet-Lite0.

- **Overhead ratio**: a method's wall time ÷ the time of bare forward passes of the same number of queries in the same
  batch size (a bare batch is timed before and after the methods; their mean per query is the denominator).
- **Masks**: ``device`` = the maskers build each batch with torch on the model's device (only the keep-masks cross,
  ``TorchModel(device_masks=True)``, the default off the CPU); ``host`` = NumPy on the host, copied to the device.
- **Budget**: PAMI keeps one of a 14×14 grid of 16-px cells in turn (196 queries + f(x)); RISE takes 196 masks;
  PAMI path ``max_queries=196`` (96 surrogate samples, the rest for its path); Captum ``FeatureAblation`` ablates
  the same 196 cells to grey (its baseline), 64 per call — same queries, same model.
- **Batches**: ``peephole.explain(model, images)`` (queries of every image packed into shared calls) vs one
  ``explain`` per image, PAMI, device masks.

    python experiments/device_batches.py --data ../shared/data/imagenet-sample --limit 4 [--device cuda]

Times are this machine's (print them with its thread count); compare them only within one run.
"""

from __future__ import annotations

import argparse
import os
import platform
import time
from pathlib import Path

import numpy as np
import torch

import peephole
from peephole.models import TorchModel

BUDGET_CELLS = 14  #: a 14×14 grid of 224-px images: 196 cells of 16 px


def photos(data: str | None, limit: int) -> list[np.ndarray]:
    if data:
        files = sorted(p for p in Path(data).iterdir() if p.suffix.lower() in (".jpeg", ".jpg", ".png"))[:limit]
        return [peephole.load_image(p, size=224) for p in files]
    return [peephole.load_image(f"skimage:{n}", size=224) for n in ("chelsea", "coffee", "astronaut", "rocket")][:limit]


def grid(cells: int, size: int = 224) -> np.ndarray:
    """H×W labels of a cells×cells grid."""
    idx = np.arange(size) * cells // size
    return idx[:, None] * cells + idx[None, :]


def bare_per_query(model: TorchModel, batch: int, rounds: int = 3) -> float:
    """Seconds per query of bare forward passes of ``batch`` images (median over rounds)."""
    x = np.random.default_rng(0).random((batch, 224, 224, 3)).astype(np.float32)
    model(x)  # warm-up (and the channels-last check)
    times = []
    for _ in range(rounds):
        t = time.perf_counter()
        model(x)
        times.append(time.perf_counter() - t)
    return float(np.median(times)) / batch


def captum_ablation(model: TorchModel, img: np.ndarray, target: int, batch: int) -> int:
    """Captum FeatureAblation over the grid cells (grey baseline), the way a Captum user calls it; its queries."""
    from captum.attr import FeatureAblation

    pre = model.preprocess
    mean = torch.tensor(pre.mean, device=model.device).view(1, -1, 1, 1)
    std = torch.tensor(pre.std, device=model.device).view(1, -1, 1, 1)
    calls = [0]

    def forward(x: torch.Tensor) -> torch.Tensor:
        calls[0] += len(x)
        with torch.inference_mode():
            return torch.softmax(model.module((x - mean) / std), 1)

    x = torch.from_numpy(img.transpose(2, 0, 1).copy())[None].to(model.device)
    mask = torch.from_numpy(grid(BUDGET_CELLS))[None, None].to(model.device)
    FeatureAblation(forward).attribute(x, target=target, feature_mask=mask, baselines=0.5, perturbations_per_eval=batch)
    return calls[0]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--data", default=None, help="a folder of photos (default: four scikit-image photos)")
    ap.add_argument("--limit", type=int, default=4)
    ap.add_argument("--batch-size", type=int, default=64)
    ap.add_argument("--device", default="cpu")
    args = ap.parse_args()
    base = peephole.load_model("efficientnet-lite0", "torch")
    module = base.module.to(args.device)  # the model this script loaded: its own to move
    models = {
        masks: TorchModel(module, "logits", base.preprocess, class_names=base.class_names, device_masks=masks == "device")
        for masks in ("device", "host")
    }
    images = photos(args.data, args.limit)
    b = args.batch_size
    cell = 224 // BUDGET_CELLS
    methods = {
        "PAMI (14×14 cells)": {"method": "pami", "partition": grid(BUDGET_CELLS)},
        "PAMI path (default method)": {"method": "pami-path", "n_samples": 96, "max_queries": BUDGET_CELLS**2},
        "RISE": {"method": "rise", "n_masks": BUDGET_CELLS**2},
    }
    for opts in methods.values():  # warm-up, and every setting checked before anything is timed
        peephole.explain(models["device"], images[0], batch_size=b, **opts)
    bare = bare_per_query(models["host"], b)
    rows = []
    for masks, model in models.items():
        for name, opts in methods.items():
            t = time.perf_counter()
            queries = sum(peephole.explain(model, im, batch_size=b, **opts).n_queries for im in images)
            rows.append((name, masks, time.perf_counter() - t, queries))
            print(f"  {name}, {masks} masks: {rows[-1][2]:.1f} s, {queries} queries", flush=True)
    targets = [
        int(np.argmax(peephole.explain(models["device"], im, **methods["PAMI (14×14 cells)"]).probabilities)) for im in images
    ]
    captum_ablation(models["device"], images[0], targets[0], b)  # warm-up
    t = time.perf_counter()
    queries = sum(captum_ablation(models["device"], im, k, b) for im, k in zip(images, targets))
    rows.append(("Captum FeatureAblation (same cells)", "torch", time.perf_counter() - t, queries))
    bare = (bare + bare_per_query(models["host"], b)) / 2
    pami = methods["PAMI (14×14 cells)"]
    t = time.perf_counter()
    alone = [peephole.explain(models["device"], im, batch_size=b, **pami) for im in images]
    t_alone = time.perf_counter() - t
    t = time.perf_counter()
    packed = peephole.explain(models["device"], images, batch_size=b, **pami)
    t_packed = time.perf_counter() - t
    same = all(np.allclose(p.maps, a.maps, rtol=1e-4, atol=1e-6) for p, a in zip(packed, alone))

    print(
        f"EfficientNet-Lite0 (eager torch {torch.__version__}) on {args.device}, {platform.machine()}, "
        f"{os.cpu_count()} CPUs, {torch.get_num_threads()} torch threads; {len(images)} images 224×224, batch {b}, "
        f"{cell}-px cells; bare forward {bare * 1e3:.1f} ms/query"
    )
    print("\n| method | masks | images/s | queries/image | overhead ratio |\n|---|---|---|---|---|")
    for name, masks, s, q in rows:
        print(f"| {name} | {masks} | {len(images) / s:.2f} | {q / len(images):.0f} | {s / (q * bare):.2f} |")
    print(
        f"\nbatches (PAMI, device masks): {len(images)} images one call each {len(images) / t_alone:.2f} images/s; "
        f"in one call, queries packed {len(images) / t_packed:.2f} images/s; maps equal: {same}"
    )


if __name__ == "__main__":
    main()
