"""PAMI as teacher (beyond Stalder et al.): PAMI maps of a classifier become the Explainer's training targets,
so one forward pass gives PAMI-like maps. Maps are min-max scaled to [0, 1] per image and class."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import torch
from tqdm.auto import tqdm

from peephole.core.query import to_numpy


def nchw_callable(classifier: torch.nn.Module, sigmoid: bool = False) -> Any:
    """The classifier as a black box on N×H×W×3 [0, 1] batches (the engine's convention), returning logits
    (or σ(logits), per-class probabilities of a multi-label classifier, with ``sigmoid``)."""

    def call(batch: np.ndarray) -> np.ndarray:
        x = torch.from_numpy(np.ascontiguousarray(np.asarray(batch, np.float32).transpose(0, 3, 1, 2)))
        with torch.no_grad():
            out = classifier(x)
            return to_numpy(torch.sigmoid(out) if sigmoid else out)

    return call


def pami_maps(
    classifier: torch.nn.Module,
    images: np.ndarray,
    targets: Sequence[Sequence[int]],
    radius: int = 4,
    stride: int = 2,
    masker: str = "black",
    progress: bool = False,
    multilabel: bool = False,
) -> np.ndarray:
    """(N, K, H, W) PAMI maps (window strategy) of ``targets[i]`` for image i, NaN for the other classes.

    The classifier's outputs are softmaxed, or with ``multilabel`` passed through a sigmoid per class."""
    from peephole.api import explain
    from peephole.modalities.image.view import normalise

    fn = nchw_callable(classifier.eval(), sigmoid=multilabel)
    n, _, h, w = images.shape
    k = int(fn(images[:1].transpose(0, 2, 3, 1)).shape[1])
    out = np.full((n, k, h, w), np.nan, np.float32)
    for i in tqdm(range(n), desc="PAMI teacher", unit="image", disable=not progress):
        if not len(targets[i]):
            continue
        e = explain(
            fn,
            images[i].transpose(1, 2, 0),
            partition="window",
            masker=masker,
            targets=list(targets[i]),
            output="probs" if multilabel else "logits",
            radius=radius,
            stride=stride,
        )
        for t, m in zip(e.targets, e.maps):
            out[i, t] = normalise(m)
    return out


def present_maps(classifier: torch.nn.Module, canvases: Any, n: int, progress: bool = False) -> np.ndarray:
    """:func:`pami_maps` of the present classes (label > 0.5) of the first ``n`` canvases of a multi-label
    classifier: its σ outputs are explained (a softmax across classes would make each class's map depend on
    the other classes' scores)."""
    present = [list(np.flatnonzero(lab > 0.5)) for lab in canvases.labels[:n]]
    return pami_maps(classifier, canvases.images[:n], present, progress=progress, multilabel=True)


def map_correlation(pred: np.ndarray, teacher: np.ndarray) -> float:
    """Mean Pearson correlation between predicted and teacher maps over the (image, class) pairs where the teacher
    map is defined and not constant; a constant predicted map counts as r = 0 (it agrees with no pattern)."""
    rs = []
    for i in range(len(teacher)):
        for k in range(teacher.shape[1]):
            t, p = np.asarray(teacher[i, k], np.float64), np.asarray(pred[i, k], np.float64)
            if np.isnan(t).any() or t.std() == 0:
                continue
            rs.append(float(np.corrcoef(p.ravel(), t.ravel())[0, 1]) if p.std() > 0 else 0.0)
    return float(np.mean(rs)) if rs else float("nan")
