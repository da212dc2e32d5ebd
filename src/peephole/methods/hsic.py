"""HSIC attribution (Novello, Fel & Vigouroux, NeurIPS 2022), as Xplique's ``HsicAttributionMethod``.

``n_designs`` binary designs over the parts (the paper's grid of 8×8 cells by default, or any partition that tiles
the input: superpixels, words) are drawn by Latin hypercube sampling rounded to {0, 1} (the paper's sampler;
``scipy.stats.qmc.LatinHypercube``, seeded); design i keeps the parts it sets to 1 and the masker hides the others
(default on images: black, Xplique's 'inpainting'). Each part's value is the HSIC between its design column and the
class output (paper, Eq. 4; Xplique's ``BinaryEstimator``): ``HSIC_j = tr(K_j H L H) / n`` with ``H = I − 11ᵀ/n``,
the input kernel ``k(a, b) = 1.5 − (a − b)²`` on binary values and an RBF output kernel
``l(y, y') = exp(−(y − y')² / 2σ²)`` whose width σ is the median of the outputs (Xplique's choice; when it is 0,
the Dirac kernel). Because ``HLH`` has zero row sums, ``tr(K_j HLH) = 2 z_jᵀ HLH z_j``: every part costs one
matrix-vector product, memory O(n² + n·parts). Cost: ``n_designs`` queries (500 by default). Each part is painted
with its value (pixel maps then rank within-cell ties in row-major order); ``smooth=True`` on the grid resizes the
cells' values to the image by cubic interpolation instead, as Xplique does (:func:`grid_smoothing`).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from peephole.core.aggregate import Aggregator
from peephole.core.designs import DesignAggregator, Designs, tiling_labels
from peephole.core.options import require
from peephole.core.partition import MAX_PARTS, Partition
from peephole.errors import InputError
from peephole.methods.base import PerturbationMethod, Settings
from peephole.methods.surrogate import grouped_samples
from peephole.pipeline import Context


def lhs_designs(n_parts: int, n_designs: int, seed: int = 0) -> np.ndarray:
    """``(n_designs, n_parts)`` bool: a seeded Latin hypercube sample of [0, 1]^d rounded to {0, 1}."""
    from scipy.stats import qmc

    return qmc.LatinHypercube(n_parts, seed=np.random.default_rng(seed)).random(n_designs) >= 0.5


def hsic_scores(z: np.ndarray, y: np.ndarray) -> np.ndarray:
    """HSIC of each binary column of ``z`` ``(n, d)`` with the outputs ``y`` ``(n,)`` (Xplique's BinaryEstimator)."""
    y = np.asarray(y, np.float64)
    n, width = len(y), float(np.median(y))
    d2 = (y[:, None] - y[None, :]) ** 2
    gram = np.exp(-d2 / (2 * width**2)) if width != 0 else (d2 == 0).astype(np.float64)
    centred = gram - gram.mean(0, keepdims=True) - gram.mean(1, keepdims=True) + gram.mean()
    zf = np.asarray(z, np.float64)
    return 2 * ((centred @ zf) * zf).sum(0) / n


class HsicAggregator(DesignAggregator):
    """One HSIC value per part and target (:func:`hsic_scores`), painted on the part's features."""

    def estimate(self, z: np.ndarray, y: np.ndarray) -> np.ndarray:
        return np.stack([hsic_scores(z, y[:, k]) for k in range(y.shape[1])])


def grid_smoothing(s: Settings) -> dict[str, Any]:
    """The aggregator parameter of ``smooth``: the grid's cells per side (0: paint each part with its value)."""
    if not s.options.smooth:
        return {}
    if s.partition != "grid":
        raise InputError(f"smooth=True resizes the cells of partition='grid', not of partition {s.partition!r}")
    return {"grid_cells": s.partition_options.cells}


@dataclass(frozen=True)
class HsicOptions:
    n_designs: int = 500  #: binary designs, one query each (split among the groups of parts)
    smooth: bool = False  #: on the 'grid' partition: cubic resize of the cells' values (Xplique), not painted cells

    def __post_init__(self) -> None:
        require("n_designs", self.n_designs, f"in [2, {MAX_PARTS}]", lambda v: 2 <= v <= MAX_PARTS)


class Hsic(PerturbationMethod):
    """HSIC attribution maps (``n_designs`` queries; defaults as in the paper and Xplique)."""

    name = "hsic"
    Options = HsicOptions

    def parts(self, ctx: Context, s: Settings, partition: Partition) -> Partition:
        z, rows = grouped_samples(partition, s.options.n_designs, lhs_designs, ctx.request.seed)
        return Designs(tiling_labels(partition), z, rows)

    def aggregator(self, ctx: Context, s: Settings) -> tuple[type[Aggregator], dict[str, Any]]:
        return HsicAggregator, grid_smoothing(s)
