"""The pointing game (Zhang et al., "Top-down neural attention by Excitation Backprop", ECCV 2016).

A map *hits* when its maximum lies within ``tolerance`` pixels (15 by default, Euclidean) of the
ground-truth region of the class, the union of its boxes. Ties at the maximum are broken
deterministically: the first maximal pixel in row-major order (``np.argmax``). Accuracy is reported
overall (hits / trials) and as the mean of the per-class accuracies.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import numpy as np
from scipy.ndimage import distance_transform_edt

from peephole.errors import InputError

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


def max_point(saliency: np.ndarray) -> tuple[int, int]:
    """(row, col) of the map's maximum; ties: first in row-major order."""
    s = np.asarray(saliency, np.float64)
    if s.ndim != 2 or not np.isfinite(s).all():
        raise InputError(f"a saliency map must be a finite H×W array, got shape {s.shape}")
    r, c = np.unravel_index(int(np.argmax(s)), s.shape)
    return int(r), int(c)


def pointing_hit(saliency: np.ndarray, region: np.ndarray, tolerance: float = TOLERANCE) -> bool:
    """True when the map's maximum is within ``tolerance`` px of a pixel of ``region`` (H×W bool)."""
    region = np.asarray(region, bool)
    if region.shape != np.shape(saliency):
        raise InputError(f"region of shape {region.shape} does not match the map of shape {np.shape(saliency)}")
    if not region.any():
        raise InputError("the ground-truth region is empty")
    r, c = max_point(saliency)
    y0, y1 = max(r - int(tolerance) - 1, 0), r + int(tolerance) + 2
    x0, x1 = max(c - int(tolerance) - 1, 0), c + int(tolerance) + 2
    window = region[y0:y1, x0:x1]
    if not window.any():
        return False
    dist = distance_transform_edt(~window)
    return bool(dist[r - y0, c - x0] <= tolerance)


def energy_in(saliency: np.ndarray, region: np.ndarray) -> float:
    """Energy-based pointing game (Wang et al., Score-CAM, CVPR-W 2020): the share of the map's positive mass
    inside ``region`` (H×W bool), in [0, 1]; 0 for a map with no positive value."""
    region = np.asarray(region, bool)
    s = np.clip(np.asarray(saliency, np.float64), 0, None)
    if region.shape != s.shape:
        raise InputError(f"region of shape {region.shape} does not match the map of shape {s.shape}")
    total = s.sum()
    return float(s[region].sum() / total) if total > 0 else 0.0


@dataclass
class PointingResult:
    overall: float  #: hits / trials
    mean_over_classes: float  #: mean of per-class accuracies
    per_class: dict[str, tuple[int, int]]  #: class -> (hits, trials)
    n_trials: int


def pointing_summary(trials: Iterable[tuple[str, bool]]) -> PointingResult:
    """Aggregate ``(class name, hit)`` trials into overall and mean-over-classes accuracy."""
    per: dict[str, list[int]] = {}
    for cls, hit in trials:
        h = per.setdefault(cls, [0, 0])
        h[0] += int(bool(hit))
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
