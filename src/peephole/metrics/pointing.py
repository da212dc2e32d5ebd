"""The pointing game (Zhang et al., "Top-down neural attention by Excitation Backprop", ECCV 2016).

A map *hits* when its maximum lies within ``tolerance`` pixels (15 by default, Euclidean) of the
ground-truth region of the class, the union of its boxes. Ties at the maximum (a map constant over superpixels or
windows has a whole maximal region) count as the **share of the maximal pixels that hit**: the expected hit when
the tie is broken uniformly at random, the same rule for every method, and 1 or 0 when the maximum is unique (the
original game). The first maximal pixel (``np.argmax``; TorchRay and most re-implementations leave ties to it)
makes a flat part's hit depend on where its top-left corner falls, and Quantus's "any maximal pixel hits" scores a
constant map as a hit on every box. Accuracy is reported overall (hits / trials) and as the mean of the per-class
accuracies. The *energy* pointing game (Wang et al.,
Score-CAM, CVPR-W 2020) scores the share of the map's positive mass that falls inside the region.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import numpy as np
from scipy.ndimage import distance_transform_edt

from peephole.errors import InputError
from peephole.metrics.maps import checked_map

TOLERANCE = 15


def boxes_mask(boxes: Sequence[Sequence[float]], shape: tuple[int, int]) -> np.ndarray:
    """Union of boxes ``(x0, y0, x1, y1)`` in pixels (x1, y1 exclusive) as an H×W bool mask.

    A pixel ``(r, c)`` (its centre at ``c + 0.5, r + 0.5``) is inside when its centre is.
    """
    h, w = shape
    m = np.zeros((h, w), bool)
    for b in boxes:
        if len(b) != 4:
            raise InputError(f"a box is (x0, y0, x1, y1), got {b}")
        x0, y0, x1, y1 = (float(v) for v in b)
        c0, c1 = max(int(np.ceil(x0 - 0.5)), 0), min(int(np.ceil(x1 - 0.5)), w)
        r0, r1 = max(int(np.ceil(y0 - 0.5)), 0), min(int(np.ceil(y1 - 0.5)), h)
        m[r0:r1, c0:c1] = True
    return m


def pointing_hit(saliency: np.ndarray, region: np.ndarray, tolerance: float = TOLERANCE) -> float:
    """The hit in [0, 1]: the share of the map's maximal pixels within ``tolerance`` px of a pixel of ``region``
    (H×W bool); 1.0 or 0.0 when the maximum is unique."""
    region, s = np.asarray(region, bool), checked_map(saliency)
    if s.ndim != 2:
        raise InputError(f"a saliency map must be a finite H×W array, got shape {s.shape}")
    if region.shape != s.shape:
        raise InputError(f"region of shape {region.shape} does not match the map of shape {s.shape}")
    if not region.any():
        raise InputError("the ground-truth region is empty")
    top = s == s.max()
    near = region if tolerance <= 0 else distance_transform_edt(~region) <= tolerance
    return float(near[top].mean())


def energy_pointing(saliency: np.ndarray, region: np.ndarray) -> float:
    """Σ_{region} s⁺ / Σ s⁺ with s⁺ = max(s, 0) (Score-CAM's energy-based pointing game; their maps are ≥ 0),
    in [0, 1]; NaN for a map with no positive mass."""
    region, s = np.asarray(region, bool), checked_map(saliency)
    if region.shape != s.shape:
        raise InputError(f"region of shape {region.shape} does not match the map of shape {s.shape}")
    pos = np.clip(s, 0, None)
    total = pos.sum()
    return float(pos[region].sum() / total) if total > 0 else float("nan")


@dataclass
class PointingResult:
    overall: float  #: hits / trials
    mean_over_classes: float  #: mean of per-class accuracies
    per_class: dict[str, tuple[float, int]]  #: class -> (hits, trials)
    n_trials: int


def pointing_summary(trials: Iterable[tuple[str, float]]) -> PointingResult:
    """Aggregate ``(class name, hit)`` trials (hits in [0, 1], see :func:`pointing_hit`) into overall and
    mean-over-classes accuracy."""
    per: dict[str, list[float]] = {}
    for cls, hit in trials:
        h = per.setdefault(cls, [0.0, 0])
        h[0] += float(hit)
        h[1] += 1
    n = sum(t for _, t in per.values())
    if not n:
        return PointingResult(float("nan"), float("nan"), {}, 0)
    return PointingResult(
        sum(h for h, _ in per.values()) / n,
        float(np.mean([h / t for h, t in per.values()])),
        {k: (v[0], v[1]) for k, v in sorted(per.items())},
        n,
    )
