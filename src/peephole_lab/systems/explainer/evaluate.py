"""How good an Explainer's masks are on images with known object masks (synthetic canvases)."""

from __future__ import annotations

from typing import Any

import numpy as np
import torch

from peephole.core.query import to_numpy
from peephole_lab.systems.explainer.train import soft_iou


def predict_masks(explainer: torch.nn.Module, images: np.ndarray, batch_size: int = 128) -> np.ndarray:
    """σ(Explainer(x)) for every image: (N, K, H, W) in [0, 1]."""
    explainer.eval()
    with torch.no_grad():
        return np.concatenate(
            [
                to_numpy(torch.sigmoid(explainer(torch.from_numpy(images[i : i + batch_size]))))
                for i in range(0, len(images), batch_size)
            ]
        )


def evaluate_masks(masks: np.ndarray, labels: np.ndarray, true_masks: np.ndarray) -> dict[str, Any]:
    """Mean IoU of each present class's mask with its true object mask — soft (``Σmin/Σmax``) and hard
    (mask > 0.5) — next to the constant all-0 / all-0.5 / all-1 baselines, and class-specificity: the mean
    mask value on the image's objects of its absent classes vs. of each present class on its own object (NaN when
    no image has both an absent class and an object pixel)."""
    soft: dict[str, list[float]] = {"explainer": [], "all-0": [], "all-0.5": [], "all-1": []}
    hard: dict[str, list[float]] = {"explainer": [], "all-0": [], "all-1": []}
    own, absent, absent_whole, present_whole = [], [], [], []
    for i in range(len(masks)):
        objects = true_masks[i].any(0)
        for k in range(masks.shape[1]):
            m, g = masks[i, k], true_masks[i, k]
            if labels[i, k] > 0.5:
                soft["explainer"].append(soft_iou(m, g))
                for b in (0.0, 0.5, 1.0):
                    soft[f"all-{b:g}"].append(soft_iou(np.full(g.shape, b), g))
                p = m > 0.5
                hard["explainer"].append(float((p & g).sum() / max((p | g).sum(), 1)))
                hard["all-0"].append(0.0)
                hard["all-1"].append(float(g.mean()))
                own.append(float(m[g].mean()))
                present_whole.append(float(m.mean()))
            else:
                if objects.any():  # an image without object pixels (e.g. one class's column alone) has no figure
                    absent.append(float(m[objects].mean()))
                absent_whole.append(float(m.mean()))
    return {
        "soft_iou": {k: float(np.mean(v)) for k, v in soft.items()},
        "hard_iou": {k: float(np.mean(v)) for k, v in hard.items()},
        "own_object_mean": float(np.mean(own)),
        "absent_class_on_objects_mean": float(np.mean(absent)) if absent else float("nan"),
        "present_mean": float(np.mean(present_whole)),
        "absent_mean": float(np.mean(absent_whole)),
    }
