"""Where perturbed batches are built (host vs the model's device) and many images per call: images/s and the overhead
ratio of the default method (PAMI path), PAMI and RISE at one query budget, and Captum FeatureAblation, all on the
same eager-torch EfficientNet-Lite0.

- **Overhead ratio**: a method's wall time ÷ the time of bare forward passes of the same number of queries in the same
  batch size (a bare batch is timed before and after the methods; their mean per query is the denominator). Beside
  it, the wall time ÷ the time spent inside the method's own model calls (the same run, so a machine whose load
  changes between the bare batches and the method still gives the share of time outside the model); and the same
  ratio in CPU seconds of the process (``time.process_time``), which a machine shared with other jobs changes less
  than wall time (on a CPU only: a GPU's work is not CPU time).
- **Masks**: ``device`` = the maskers build each batch with torch on the model's device (only the keep-masks cross,
  ``TorchModel(device_masks=True)``, the default off the CPU); ``host`` = NumPy on the host, copied to the device.
- **Budget** (``--cells`` c, default 14: 196 queries on 224-px images): PAMI keeps one of a c×c grid of cells in turn
  (c² queries + f(x)); RISE takes c² masks; PAMI path ``max_queries=c²`` (c²/2 surrogate samples, the rest for its
  path); Captum ``FeatureAblation`` ablates the same c² cells to grey (its baseline) — same queries, same model.
- **Batches**: ``peephole.explain(model, images)`` (queries of every image packed into shared calls) vs one
  ``explain`` per image, PAMI, device masks.
- **Strategy II's segmentations**: the seconds PAMI's default superpixels (the paper's 20 settings) take to segment
  each image, against the bare forward time of that image's Strategy II queries (one per superpixel, + f(x)).

    python experiments/device_batches.py --data ../shared/data/imagenet-sample --limit 4 [--cells 14] [--device cuda]

Times are this machine's (print them with its thread count); compare them only within one run. ``--threads 1`` on
a CPU shared with other jobs: with more torch (OpenMP) threads than the process gets cores, every model call waits
at OpenMP's barriers for descheduled threads (docs/devices.md, "Measured").
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
from peephole.modalities.image.superpixels import Superpixels
from peephole.modalities.image.windows import grid_labels
from peephole.models import TorchModel


class Clocked(TorchModel):
    """A TorchModel that adds up the seconds spent in its calls (:attr:`spent`)."""

    spent = 0.0

    def __call__(self, batch: object) -> np.ndarray:
        t = time.perf_counter()
        try:
            return super().__call__(batch)
        finally:
            self.spent += time.perf_counter() - t


def photos(data: str | None, limit: int) -> list[np.ndarray]:
    if data:
        files = sorted(p for p in Path(data).iterdir() if p.suffix.lower() in (".jpeg", ".jpg", ".png"))[:limit]
        return [peephole.load_image(p, size=224) for p in files]
    return [peephole.load_image(f"skimage:{n}", size=224) for n in ("chelsea", "coffee", "astronaut", "rocket")][:limit]


def bare_per_query(model: TorchModel, batch: int, rounds: int = 2) -> np.ndarray:
    """Wall and CPU seconds per query of bare forward passes of ``batch`` images (medians over rounds)."""
    x = np.random.default_rng(0).random((batch, 224, 224, 3)).astype(np.float32)
    times = []
    for _ in range(rounds):
        t, cpu = time.perf_counter(), time.process_time()
        model(x)
        times.append((time.perf_counter() - t, time.process_time() - cpu))
    return np.median(times, axis=0) / batch


def captum_ablation(model: Clocked, img: np.ndarray, target: int, batch: int, cells: int) -> int:
    """Captum FeatureAblation over the grid cells (grey baseline), the way a Captum user calls it; its queries."""
    from captum.attr import FeatureAblation

    pre = model.preprocess
    mean = torch.tensor(pre.mean, device=model.device).view(1, -1, 1, 1)
    std = torch.tensor(pre.std, device=model.device).view(1, -1, 1, 1)
    calls = [0]

    def forward(x: torch.Tensor) -> torch.Tensor:
        calls[0] += len(x)
        t = time.perf_counter()
        with torch.inference_mode():
            out = torch.softmax(model.module((x - mean) / std), 1).cpu()
        model.spent += time.perf_counter() - t
        return out

    x = torch.from_numpy(img.transpose(2, 0, 1).copy())[None].to(model.device)
    mask = torch.from_numpy(grid_labels(224, 224, cells))[None, None].to(model.device)
    FeatureAblation(forward).attribute(x, target=target, feature_mask=mask, baselines=0.5, perturbations_per_eval=batch)
    return calls[0]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--data", default=None, help="a folder of photos (default: four scikit-image photos)")
    ap.add_argument("--limit", type=int, default=4)
    ap.add_argument("--cells", type=int, default=14, help="the budget: a cells×cells grid, cells² queries per image")
    ap.add_argument("--batch-size", type=int, default=64)
    ap.add_argument("--device", default="cpu")
    ap.add_argument("--threads", type=int, default=None, help="torch's threads (default: torch's own choice)")
    args = ap.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)
    base = peephole.load_model("efficientnet-lite0", "torch")
    module = base.module.to(args.device)  # the model this script loaded: its own to move
    models = {
        masks: Clocked(module, "logits", base.preprocess, class_names=base.class_names, device_masks=masks == "device")
        for masks in ("device", "host")
    }
    images = photos(args.data, args.limit)
    b, c = args.batch_size, args.cells

    def budget(cells: int) -> dict[str, dict]:
        return {
            "PAMI (grid cells)": {"method": "pami", "partition": "grid", "cells": cells},
            "PAMI path (default method)": {"method": "pami-path", "n_samples": cells**2 // 2, "max_queries": cells**2},
            "RISE": {"method": "rise", "n_masks": cells**2},
        }

    methods = budget(c)
    for model in models.values():  # warm-up (and each adapter's channels-last check), on a 2×2 budget
        for opts in budget(2).values():
            peephole.explain(model, images[0], batch_size=b, **opts)
    bare = bare_per_query(models["host"], b)
    rows = []
    for masks, model in models.items():
        for name, opts in methods.items():
            model.spent, t, cpu = 0.0, time.perf_counter(), time.process_time()
            queries = sum(peephole.explain(model, im, batch_size=b, **opts).n_queries for im in images)
            rows.append((name, masks, time.perf_counter() - t, queries, model.spent, time.process_time() - cpu))
            print(
                f"  {name}, {masks} masks: {rows[-1][2]:.1f} s ({model.spent:.1f} s in the model), {queries} queries", flush=True
            )
    model = models["device"]
    targets = np.argmax(model(np.stack(images)), axis=1)  # each image's top class, what the methods explained
    captum_ablation(model, images[0], int(targets[0]), b, 2)  # warm-up
    model.spent, t, cpu = 0.0, time.perf_counter(), time.process_time()
    queries = sum(captum_ablation(model, im, int(k), b, c) for im, k in zip(images, targets))
    rows.append(
        ("Captum FeatureAblation (same cells)", "torch", time.perf_counter() - t, queries, model.spent, time.process_time() - cpu)
    )
    print(f"  Captum: {rows[-1][2]:.1f} s", flush=True)
    bare = (bare + bare_per_query(models["host"], b)) / 2
    pami = methods["PAMI (grid cells)"]
    t = time.perf_counter()
    alone = [peephole.explain(model, im, batch_size=b, **pami) for im in images]
    t_alone = time.perf_counter() - t
    t = time.perf_counter()
    packed = peephole.explain(model, images, batch_size=b, **pami)
    t_packed = time.perf_counter() - t
    same = all(np.allclose(p.maps, a.maps, rtol=1e-4, atol=1e-6) for p, a in zip(packed, alone))
    segment = []
    for im in images:
        t = time.perf_counter()
        parts = Superpixels.from_image(im).n_parts
        segment.append((time.perf_counter() - t, parts + 1))

    print(
        f"\nEfficientNet-Lite0 (eager torch {torch.__version__}) on {args.device}, {platform.machine()}, "
        f"{os.cpu_count()} CPUs, {torch.get_num_threads()} torch threads; {len(images)} images 224×224, batch {b}, "
        f"{c}×{c} cells; bare forward {bare[0] * 1e3:.1f} ms/query ({bare[1] * 1e3:.1f} ms CPU)"
    )
    print(
        "\n| method | masks | images/s | queries/image | overhead ratio (÷ bare forward) | ÷ its own model calls "
        "| CPU seconds ÷ bare forward's |\n|---|---|---|---|---|---|---|"
    )
    for name, masks, s, q, spent, cpu in rows:
        print(
            f"| {name} | {masks} | {len(images) / s:.3f} | {q / len(images):.0f} | {s / (q * bare[0]):.2f} | {s / spent:.2f} "
            f"| {cpu / (q * bare[1]):.2f} |"
        )
    print(
        f"\nbatches (PAMI, device masks): {len(images)} images one call each {len(images) / t_alone:.3f} images/s; "
        f"in one call, queries packed {len(images) / t_packed:.3f} images/s; maps equal: {same}"
    )
    s, q = (float(np.mean(v)) for v in zip(*segment))
    print(
        f"PAMI Strategy II: segmenting one image (20 settings, {os.cpu_count()} threads) {s:.2f} s; its {q:.0f} queries' "
        f"bare forward {q * bare[0]:.2f} s: the segmentations alone make its overhead ratio ≥ {1 + s / (q * bare[0]):.2f}"
    )


if __name__ == "__main__":
    main()
