"""Insertion and deletion curves (Petsiuk et al., RISE, BMVC 2018), batched through the engine loop.

Pixels are ranked by importance (ties: lower row-major index first). Step ``i`` of a curve shows the
model an image where the ``i·step`` most important pixels come from one image and the rest from
another: *insertion* restores pixels of x into a blurred copy (PAMI's 49×49, σ=100 reflect blur by
default), *deletion* replaces pixels of x by a constant (mid-grey by default). The curve images are
an engine :class:`~peephole.core.Partition` of prefix masks, so they are built lazily and queried
in batches like any explanation. The score is the area under the class-probability curve over the
fraction of pixels changed, by the trapezoid rule, which lies in [0, 1].
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from peephole.core.aggregate import ScoresOnly
from peephole.core.partition import Partition
from peephole.core.perturb import Masker
from peephole.core.run import run
from peephole.errors import InputError
from peephole.modalities.image.maskers import BlurMasker, ConstantMasker
from peephole.models.base import as_model
from peephole.tasks import classification_query

#: Pixels per step for a 224×224 input (Petsiuk et al.); other sizes scale it by H·W / 224².
DEFAULT_STEP_224 = 224


@dataclass
class Curve:
    fractions: np.ndarray  #: fraction of pixels inserted / deleted at each step, 0 .. 1
    probabilities: np.ndarray  #: target-class probability at each step
    n_queries: int

    @property
    def auc(self) -> float:
        return auc(self.fractions, self.probabilities)


def auc(fractions: np.ndarray, values: np.ndarray) -> float:
    """Trapezoid area under ``values`` over ``fractions`` (in [0, 1] when both are)."""
    return float(np.trapezoid(np.asarray(values, np.float64), np.asarray(fractions, np.float64)))


def pixel_order(saliency: np.ndarray) -> np.ndarray:
    """Flat pixel indices, most important first; equal values keep row-major order (deterministic)."""
    s = np.asarray(saliency, dtype=np.float64)
    if s.ndim != 2:
        raise InputError(f"a saliency map must be H×W, got shape {s.shape}")
    if not np.isfinite(s).all():
        raise InputError("the saliency map contains NaN or inf")
    return np.argsort(-s.ravel(), kind="stable")


def default_step(shape: tuple[int, int]) -> int:
    """224 pixels per step at 224×224, scaled with the number of pixels (≈ 224 steps per curve)."""
    return max(1, round(DEFAULT_STEP_224 * shape[0] * shape[1] / 224**2))


class PrefixPartition(Partition):
    """Part ``i`` keeps the ``counts[i]`` first pixels of ``order`` (one group; built lazily)."""

    def __init__(self, order: np.ndarray, shape: tuple[int, int], counts: np.ndarray) -> None:
        self.shape = tuple(shape)
        self.rank = np.empty(order.size, np.int64)
        self.rank[order] = np.arange(order.size)
        self.counts = np.asarray(counts, np.int64)

    @property
    def n_parts(self) -> int:
        return len(self.counts)

    def masks(self, start: int, stop: int) -> np.ndarray:
        keep = self.rank[None, :] < self.counts[start:stop, None]
        return keep.reshape(stop - start, *self.shape)


def perturbation_curve(
    model: Any,
    image: np.ndarray,
    saliency: np.ndarray,
    target: int,
    mode: str,
    step: int | None = None,
    masker: Masker | None = None,
    batch_size: int = 32,
    output: str | None = None,
) -> Curve:
    """The insertion (``mode='insertion'``) or deletion curve of ``saliency`` for class ``target``."""
    if mode not in ("insertion", "deletion"):
        raise InputError(f"mode must be 'insertion' or 'deletion', got {mode!r}")
    img = np.asarray(image, np.float32)
    if img.ndim != 3 or img.shape[:2] != np.shape(saliency):
        raise InputError(f"saliency map of shape {np.shape(saliency)} does not match the image of shape {img.shape}")
    h, w = img.shape[:2]
    n = h * w
    step = default_step((h, w)) if step is None else int(step)
    if step < 1:
        raise InputError(f"step must be >= 1 pixel, got {step}")
    changed = np.minimum(np.arange(0, n + step, step), n)
    changed = changed[: int(np.searchsorted(changed, n)) + 1]  # 0, step, 2·step, ..., n
    order = pixel_order(saliency)
    if mode == "insertion":  # keep (= show x at) the first k pixels; the rest from the blurred copy
        part, mask = PrefixPartition(order, (h, w), changed), masker or BlurMasker()
    else:  # keep the n − k least important pixels (reversed order); the first k become the constant
        part, mask = PrefixPartition(order[::-1], (h, w), n - changed), masker or ConstantMasker("grey")
    m = as_model(model, output=output)
    query = classification_query(m)
    res = run(query, img, part, mask, [int(target)], batch_size, aggregator=ScoresOnly, desc=mode)
    return Curve(changed / n, res.scores[:, int(target)].astype(np.float64), res.n_queries)


def insertion(model: Any, image: np.ndarray, saliency: np.ndarray, target: int, **kw: Any) -> Curve:
    """Insertion: restore the most important pixels of x into a blurred copy first; higher AUC is better."""
    return perturbation_curve(model, image, saliency, target, "insertion", **kw)


def deletion(model: Any, image: np.ndarray, saliency: np.ndarray, target: int, **kw: Any) -> Curve:
    """Deletion: replace the most important pixels by mid-grey first; lower AUC is better."""
    return perturbation_curve(model, image, saliency, target, "deletion", **kw)
