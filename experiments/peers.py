"""Peephole side by side with the libraries a user would pick instead, in ONE process on the same images,
model and machine: wall time, model queries, insertion and deletion per image.

- Peephole PAMI (Strategy II) vs Captum ``FeatureAblation`` computing the same keep-one map on the same
  partition (input = the blurred image, baseline = the original image, one feature mask per
  segmentation; map = f(blur) − attribution, averaged over the segmentations = Eq. 1), both with the
  same eager torch module — Captum calling it on default-layout NCHW tensors, as its users do, Peephole
  through its ``TorchModel`` adapter (channels-last batches) — the maps must agree to 1e-6; and Peephole
  with its default onnxruntime backend.
- Peephole LIME and KernelSHAP vs the ``lime`` package's ``LimeImageExplainer`` and shap's ``Partition``
  explainer with its image masker, all at PAMI's number of model queries.
- Peephole's PAMI path (``pami-path``, blur masker, its default 500-query budget) on the same images.
- The overhead ratio (PAMI wall ÷ bare forward passes of the same batch sizes, interleaved) of every
  PAMI variant (Strategy II, adaptive at a quarter of its queries, windows, PAMI path).

    pip install 'peephole[peers]'   # captum, lime, shap
    python experiments/peers.py --data ../shared/data/imagenet-sample --split test --limit 5

Insertion starts from the 49×49 σ=100 blur and deletion ends at mid-grey (the paper's protocol, step
``--step`` px). Times are seconds per image on this machine; compare them only within one run.
"""

from __future__ import annotations

import argparse
import os
import platform
import time
from collections import defaultdict
from collections.abc import Callable
from typing import Any

import numpy as np

import peephole
from peephole.core.query import softmax
from peephole.evaluation.bare import BareTwin
from peephole.evaluation.data import correctly_classified
from peephole.metrics.curves import perturbation_curve
from peephole.modalities import get_modality
from peephole.modalities.image.maskers import BlurMasker
from peephole.modalities.image.superpixels import PAPER_SEGMENTATIONS, Superpixels


def captum_keep_one(torch_model, img: np.ndarray, labels: list[np.ndarray], target: int, batch: int) -> tuple[np.ndarray, int]:
    """PAMI's Eq. 1 map computed with Captum's FeatureAblation on the same partition and torch module,
    called the way a Captum user calls it: NCHW tensors (default layout), normalisation and softmax in torch."""
    import torch
    from captum.attr import FeatureAblation

    net, pre = torch_model.module, torch_model.preprocess
    mean, std = (torch.tensor(v, dtype=torch.float32).view(1, 3, 1, 1) for v in (pre.mean, pre.std))

    def forward(x: torch.Tensor) -> torch.Tensor:  # NCHW in [0, 1] -> class probabilities
        return torch.softmax(net((x - mean) / std), dim=1)

    def nchw(a: np.ndarray) -> torch.Tensor:
        return torch.from_numpy(np.ascontiguousarray(np.asarray(a, np.float32).transpose(2, 0, 1)))[None]

    blur, orig = nchw(BlurMasker().baseline(img)), nchw(img)
    with torch.no_grad():
        p_blur = float(forward(blur)[0, target])
    ablation = FeatureAblation(forward)
    maps, queries = [], 0
    for lab in labels:
        mask = torch.from_numpy(lab.astype(np.int64))[None, None].expand(1, 3, *lab.shape)
        attr = ablation.attribute(blur, baselines=orig, target=target, feature_mask=mask, perturbations_per_eval=batch)
        maps.append(p_blur - attr[0, 0].double().numpy())  # = f(keep part j) on every pixel of part j
        queries += 1 + len(np.unique(lab))
    return np.mean(maps, axis=0).astype(np.float32), queries


def lime_package(model, img: np.ndarray, labels: np.ndarray, target: int, n: int, batch: int) -> np.ndarray:
    """The ``lime`` package's image explainer on the same superpixels, hiding with mid-grey."""
    from lime import lime_image

    explainer = lime_image.LimeImageExplainer(random_state=0)
    e = explainer.explain_instance(
        img.astype(np.float64),
        lambda b: softmax(np.asarray(model(np.asarray(b, np.float32)), np.float64)),
        labels=(target,),
        top_labels=None,
        hide_color=0.5,
        num_samples=n,
        batch_size=batch,
        segmentation_fn=lambda _: labels,
    )
    weights = dict(e.local_exp[target])
    return np.vectorize(lambda s: weights.get(s, 0.0))(labels).astype(np.float32)


def shap_partition(model, img: np.ndarray, target: int, n: int, batch: int) -> np.ndarray:
    """shap's Partition explainer with its blur image masker, at ``n`` model evaluations."""
    import shap

    masker = shap.maskers.Image("blur(49,49)", img.shape)

    def f(b: np.ndarray) -> np.ndarray:
        return softmax(np.asarray(model(np.asarray(b, np.float32)), np.float64))[:, [target]]

    values = shap.Explainer(f, masker, silent=True)(img[None], max_evals=n, batch_size=batch)
    return np.asarray(values.values[0, ..., 0], np.float32).sum(-1)


def timed(fn: Callable[..., Any], *args: Any, **kwargs: Any) -> tuple[Any, float]:
    t = time.perf_counter()
    out = fn(*args, **kwargs)
    return out, time.perf_counter() - t


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--data", required=True, help="an imagenet-sample folder")
    ap.add_argument("--split", default="test", choices=("dev", "test"))
    ap.add_argument("--limit", type=int, default=5, help="correctly classified images")
    ap.add_argument("--batch-size", type=int, default=16)
    ap.add_argument("--step", type=int, default=896)
    args = ap.parse_args()
    onnx = peephole.load_model("efficientnet-lite0", "onnx")
    eager = peephole.load_model("efficientnet-lite0", "torch")
    b = args.batch_size
    rows: dict[str, list[tuple[float, float, float, float]]] = defaultdict(list)
    overhead: dict[str, list[tuple[float, float]]] = defaultdict(list)
    agree = []
    done = 0
    for done, (s, img) in enumerate(correctly_classified(onnx, args.data, args.split, args.limit), start=1):
        t = s.label
        import cv2

        cv2.setRNGSeed(0)
        sp = Superpixels.from_image(img, PAPER_SEGMENTATIONS)
        results: dict[str, tuple[np.ndarray, int, float]] = {}
        for name, model in (("Peephole PAMI (onnxruntime)", onnx), ("Peephole PAMI (eager torch)", eager)):
            e, sec = timed(peephole.explain, model, img, "pami", targets=t, partition=sp, batch_size=b)
            results[name] = (e.maps[0], e.n_queries, sec)
        (cmap, cq), sec = timed(captum_keep_one, eager, img, sp.label_maps, t, b)
        results["Captum FeatureAblation (eager torch)"] = (cmap, cq, sec)
        agree.append(float(np.abs(cmap - results["Peephole PAMI (eager torch)"][0]).max()))
        budget = results["Peephole PAMI (onnxruntime)"][1]
        slic = get_modality("image").partition(img, "slic").label_maps[0]  # Peephole LIME's superpixels, for lime too
        for name, method in (("Peephole LIME", "lime"), ("Peephole KernelSHAP", "kernel-shap")):
            e, sec = timed(peephole.explain, onnx, img, method, targets=t, n_samples=budget, batch_size=b)
            results[name] = (e.maps[0], e.n_queries, sec)
        m, sec = timed(lime_package, onnx, img, slic, t, budget, b)
        results["lime LimeImageExplainer"] = (m, budget, sec)
        m, sec = timed(shap_partition, onnx, img, t, budget, b)
        results["shap Partition (blur masker)"] = (m, budget, sec)
        e, sec = timed(peephole.explain, onnx, img, "pami-path", targets=t, masker="blur", batch_size=b)
        results["Peephole PAMI path (onnxruntime)"] = (e.maps[0], e.n_queries, sec)
        for name, (heat, q, sec) in results.items():
            ins = perturbation_curve(onnx, img, heat, t, "insertion", step=args.step).auc
            dele = perturbation_curve(onnx, img, heat, t, "deletion", step=args.step).auc
            rows[name].append((sec, q, ins, dele))
        for variant, method, opts in (
            ("Strategy II", "pami", {}),
            ("adaptive (1/4 budget)", "pami", {"max_queries": budget // 4}),
            ("windows", "pami", {"partition": "window"}),
            ("PAMI path", "pami-path", {}),
        ):
            twin = BareTwin(onnx, img, b)
            e, sec = timed(peephole.explain, twin, img, method, targets=t, batch_size=b, **opts)
            overhead[variant].append((sec - twin.bare_s, twin.bare_s))
        print(f"{s.path.name}: done ({done}/{args.limit})", flush=True)
    machine = f"{os.cpu_count()} cores ({platform.machine()})"
    print(f"\nEfficientNet-Lite0, {done} correctly classified {args.split}-split images, batch {b}, {machine}")
    print(f"PAMI (eager torch) vs Captum FeatureAblation, same partition: max |Δmap| = {max(agree):.2e}\n")
    print("| method | s/image | queries/image | insertion | deletion |\n|---|---|---|---|---|")
    ref = np.mean([r[0] for r in rows["Peephole PAMI (onnxruntime)"]])
    for name, r in rows.items():
        sec, q, ins, dele = np.asarray(r).mean(axis=0)
        print(f"| {name} | {sec:.2f} ({sec / ref:.2f}×) | {q:.0f} | {ins:.3f} | {dele:.3f} |")
    print("\n| PAMI variant | PAMI s/image | bare forward s/image | overhead ratio |\n|---|---|---|---|")
    for variant, r in overhead.items():
        p, bare = np.asarray(r).mean(axis=0)
        print(f"| {variant} | {p:.2f} | {bare:.2f} | {p / bare:.3f} |")


if __name__ == "__main__":
    main()
