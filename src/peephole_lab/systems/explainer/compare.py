"""The Explainer side by side with the per-image methods on the same canvases with known object masks.

For every canvas and every present class, each method's map ``s`` is scored against that digit's true mask
``g``. Maps are put on one scale first: the Explainers' masks σ(logits) are used as they are (they are
probabilities of "keep this pixel"); the per-image methods' maps are ``relu(map) / max`` (negative
evidence set to 0, peak 1). Columns: soft IoU ``Σmin(s,g)/Σmax(s,g)``; IoU of ``s > 0.5``; IoU of the
``|g|`` highest pixels (threshold-free, the true area given); the mean of ``s`` on the own digit and on the
canvas's other digits; insertion / deletion AUC (Petsiuk et al.) of the class's σ probability; seconds and
model queries per canvas (all present classes of a canvas from one call).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from time import perf_counter
from typing import Any

import numpy as np

from peephole.core.query import to_numpy
from peephole.errors import InputError
from peephole_lab.data.canvases import Canvases
from peephole_lab.systems.explainer.teacher import nchw_callable
from peephole_lab.systems.explainer.train import soft_iou

#: Per-image methods and their settings here (64×64 canvases); PAMI's are the teacher's (window r=4, stride 2).
PER_IMAGE: dict[str, tuple[str, dict[str, Any]]] = {
    "PAMI": ("pami", {"partition": "window", "radius": 4, "stride": 2, "masker": "black"}),
    "RISE": ("rise", {"n_masks": 4000}),
    "Grad-CAM": ("gradcam", {}),
    "KernelSHAP": ("kernel-shap", {"n_samples": 1000, "partition": "window", "radius": 6, "stride": 8, "masker": "black"}),
}
COLUMNS = ("soft_iou", "iou@0.5", "iou@top|g|", "own", "other_digits", "insertion", "deletion", "seconds", "queries")
#: the table's headers for :data:`COLUMNS` (Markdown: the bars of |g| escaped)
HEADERS = (
    "soft IoU",
    "IoU s>0.5",
    "IoU top-\\|g\\|",
    "own ink",
    "other digits",
    "insertion ↑",
    "deletion ↓",
    "s / canvas",
    "queries / canvas",
)


@dataclass
class Comparison:
    """Per-method means of :data:`COLUMNS` and the maps (canvas → method → (n_present, H, W))."""

    rows: dict[str, dict[str, float]]
    maps: list[dict[str, np.ndarray]] = field(default_factory=list)
    n_canvases: int = 0

    def table(self) -> str:
        """A Markdown table, one row per method."""
        head = "| method | " + " | ".join(HEADERS) + " |\n|---|" + "---|" * len(COLUMNS) + "\n"
        body = ""
        for name, r in self.rows.items():
            cells = [f"{r[c]:.0f}" if c == "queries" else f"{r[c]:.4f}" if c == "seconds" else f"{r[c]:.3f}" for c in COLUMNS]
            body += f"| {name} | " + " | ".join(cells) + " |\n"
        return head + body


def unit_scale(m: np.ndarray) -> np.ndarray:
    """``relu(m) / max`` (all-zero when nothing is positive)."""
    r = np.maximum(np.asarray(m, np.float64), 0.0)
    top = r.max()
    return r / top if top > 0 else r


def score_map(s: np.ndarray, g: np.ndarray, others: np.ndarray) -> dict[str, float]:
    """The mask columns of one map ``s`` in [0, 1] against its digit ``g`` and the other digits' pixels."""
    k = int(g.sum())
    top = np.zeros(g.size, bool)
    top[np.argsort(-s.ravel(), kind="stable")[:k]] = True
    top = top.reshape(g.shape)
    hard = s > 0.5
    return {
        "soft_iou": soft_iou(s, g),
        "iou@0.5": float((hard & g).sum() / max((hard | g).sum(), 1)),
        "iou@top|g|": float((top & g).sum() / max((top | g).sum(), 1)),
        "own": float(s[g].mean()),
        "other_digits": float(s[others].mean()) if others.any() else float("nan"),
    }


def compare_methods(
    classifier: Any,
    canvases: Canvases,
    explainers: dict[str, Any],
    methods: Sequence[str] = tuple(PER_IMAGE),
    curves: bool = True,
    seed: int = 0,
    progress: bool = False,
) -> Comparison:
    """Score ``explainers`` (name → trained Explainer) and the per-image ``methods`` (keys of :data:`PER_IMAGE`)
    on every canvas of ``canvases`` for each of its present classes."""
    import torch
    from tqdm.auto import tqdm

    from peephole.api import explain
    from peephole.metrics.curves import deletion, insertion

    unknown = [m for m in methods if m not in PER_IMAGE]
    if unknown:
        raise InputError(f"unknown per-image method {unknown[0]!r}; use some of: {', '.join(PER_IMAGE)}")
    black_box = nchw_callable(classifier.eval(), sigmoid=True)
    acc: dict[str, list[dict[str, float]]] = {n: [] for n in [*explainers, *methods]}
    cost: dict[str, list[tuple[float, int]]] = {n: [] for n in acc}
    all_maps: list[dict[str, np.ndarray]] = []
    for i in tqdm(range(len(canvases)), desc="side by side", unit="canvas", disable=not progress):
        x = canvases.images[i]
        hwc = np.ascontiguousarray(x.transpose(1, 2, 0))
        present = [int(k) for k in np.flatnonzero(canvases.labels[i] > 0.5)]
        maps: dict[str, np.ndarray] = {}
        for name, net in explainers.items():
            t0 = perf_counter()
            net.eval()
            with torch.no_grad():
                seg = to_numpy(torch.sigmoid(net(torch.from_numpy(x[None])))[0])
            cost[name].append((perf_counter() - t0, 1))
            maps[name] = seg[present].astype(np.float64)
        for name in methods:
            method, opts = PER_IMAGE[name]
            model, output = (classifier, "logits") if method == "gradcam" else (black_box, "probs")
            t0 = perf_counter()
            e = explain(model, hwc, method=method, targets=present, output=output, seed=seed, **opts)
            cost[name].append((perf_counter() - t0, int(e.n_queries)))
            maps[name] = np.stack([unit_scale(m) for m in e.maps])
        all_maps.append(maps)
        for name, ms in maps.items():
            for j, k in enumerate(present):
                g = canvases.masks[i, k]
                others = canvases.masks[i].any(0) & ~g
                row = score_map(ms[j], g, others)
                if curves:
                    row["insertion"] = insertion(black_box, hwc, ms[j], k, output="probs").auc
                    row["deletion"] = deletion(black_box, hwc, ms[j], k, output="probs").auc
                acc[name].append(row)
    rows = {}
    for name, scores in acc.items():
        keys = [c for c in COLUMNS if c in scores[0]]
        rows[name] = {c: float(np.nanmean([s[c] for s in scores])) for c in keys}
        rows[name]["seconds"] = float(np.mean([t for t, _ in cost[name]]))
        rows[name]["queries"] = float(np.mean([q for _, q in cost[name]]))
        if not curves:
            rows[name]["insertion"] = rows[name]["deletion"] = float("nan")
    return Comparison(rows, all_maps, len(canvases))


def comparison_figure(canvases: Canvases, comp: Comparison, path: Any, n_canvases: int = 4) -> Any:
    """Rows = (canvas, present digit); columns = the canvas, the digit's true mask, each method's map (scale [0, 1])."""
    from peephole.modalities.image.view import grid

    rows, titles = [], []
    for i in range(min(n_canvases, len(comp.maps))):
        present = [int(k) for k in np.flatnonzero(canvases.labels[i] > 0.5)]
        for j, k in enumerate(present):
            rows.append(
                [canvases.images[i].transpose(1, 2, 0), canvases.masks[i, k].astype(float)]
                + [m[j] for m in comp.maps[i].values()]
            )
            titles.append([f"canvas {i}: digit {k}", "true mask", *comp.maps[i]])
    return grid(rows, titles, path, cmap="viridis", vrange=(0.0, 1.0))
