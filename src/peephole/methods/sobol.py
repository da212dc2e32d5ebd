"""Sobol attribution (Fel, Cadène, Chalvidal et al., NeurIPS 2021), as Xplique's ``SobolAttributionMethod``.

Per group of parts (the paper's grid of 8×8 cells by default, or any partition that tiles the input) with ``d``
parts: a scrambled Sobol sequence (``scipy.stats.qmc.Sobol`` in dimension 2d, seeded; ``scramble=False`` gives
Xplique's plain sequence) gives ``n_designs`` points split into matrices A and B (``N × d`` each); ``C_j`` is A with
column j taken from B. Each point is a soft mask, the part's value its keep weight: the masker's baseline blends in
with weight ``1 − z`` (Xplique's perturbations: 'inpainting' = black baseline, the default here, or 'blur', ...).
A part's value is its total-order Sobol index by the Jansen estimator (paper, Eq. 7; Xplique's ``JansenEstimator``):
``S_Tj = Σ_i (f(A_i) − f(C_ji))² / (2N·Var f(A))``, Var the unbiased variance of the A outputs.
Cost: ``N·(d + 1)`` queries (2080 at the defaults, 32 designs over 64 cells); Xplique also queries B (``N`` more),
which Jansen does not read. The values are painted on their parts; ``smooth=True`` on the grid resizes them by cubic
interpolation, as Xplique does.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from peephole.core.aggregate import Aggregator
from peephole.core.designs import DesignAggregator, Designs, tiling_labels
from peephole.core.options import require
from peephole.core.partition import MAX_PARTS, Partition
from peephole.core.perturb import BaselineMasker, Masker, SoftMasker
from peephole.errors import InputError
from peephole.methods.base import PerturbationMethod, Settings
from peephole.methods.hsic import grid_smoothing
from peephole.pipeline import Context

EPS = 1e-12  #: the smallest variance of f(A) the estimator divides by (Xplique's)


def sobol_designs(n_parts: int, n_designs: int, seed: int = 0, scramble: bool = True) -> np.ndarray:
    """``(n_designs·(d + 1), d)`` float32 in [0, 1): A, then ``C_0 .. C_{d−1}`` (A with column j from B)."""
    from scipy.stats import qmc

    ab = qmc.Sobol(2 * n_parts, scramble=scramble, seed=np.random.default_rng(seed)).random(n_designs).astype(np.float32)
    a, b = ab[:, :n_parts], ab[:, n_parts:]
    c = np.repeat(a[None], n_parts, axis=0)
    idx = np.arange(n_parts)
    c[idx, :, idx] = b.T
    return np.concatenate([a, c.reshape(-1, n_parts)])


def jansen_total(y: np.ndarray, n_designs: int) -> np.ndarray:
    """Total-order indices ``(d,)`` from the outputs ``y`` of A then ``C_0 .. C_{d−1}`` (Jansen, 1999)."""
    a, c = y[:n_designs], y[n_designs:].reshape(-1, n_designs)
    var = max(float(np.var(a, ddof=1)) if n_designs > 1 else 0.0, EPS)
    return ((a[None] - c) ** 2).sum(1) / (2 * n_designs * var)


class JansenAggregator(DesignAggregator):
    """Total-order Sobol indices per part and target (:func:`jansen_total`), painted on the part's features."""

    def __init__(self, partition: Designs, reference: np.ndarray, n_designs: int = 32, grid_cells: int = 0) -> None:
        super().__init__(partition, reference, grid_cells, n_designs=int(n_designs))

    def estimate(self, z: np.ndarray, y: np.ndarray) -> np.ndarray:
        return np.stack([jansen_total(y[:, k], self.params["n_designs"]) for k in range(y.shape[1])])


@dataclass(frozen=True)
class SobolOptions:
    n_designs: int = 32  #: N, a power of two: N·(d + 1) queries per group of d parts
    scramble: bool = True  #: Owen-scrambled, seeded Sobol points (False: Xplique's unscrambled sequence)
    smooth: bool = False  #: on the 'grid' partition: cubic resize of the cells' values (Xplique), not painted cells

    def __post_init__(self) -> None:
        require(
            "n_designs", self.n_designs, f"a power of two in [2, {MAX_PARTS}]", lambda v: 2 <= v <= MAX_PARTS and v & (v - 1) == 0
        )


class Sobol(PerturbationMethod):
    """Sobol attribution maps (total-order indices; ``n_designs·(parts + 1)`` queries)."""

    name = "sobol"
    Options = SobolOptions

    def parts(self, ctx: Context, s: Settings, partition: Partition) -> Partition:
        labels, o = tiling_labels(partition), s.options
        blocks, rows = [], []
        for g in range(partition.n_groups):
            cols = np.flatnonzero(partition.groups == g)
            drawn = sobol_designs(len(cols), o.n_designs, ctx.request.seed + g, o.scramble)
            block = np.zeros((len(drawn), partition.n_parts), np.float32)
            block[:, cols] = drawn
            blocks.append(block)
            rows.append(np.full(len(drawn), g))
        return Designs(labels, np.concatenate(blocks), np.concatenate(rows), soft=True)

    def masker(self, ctx: Context, s: Settings, masker: Masker) -> Masker:
        if not isinstance(masker, BaselineMasker):
            raise InputError("Sobol attribution blends towards a baseline: use 'black', 'grey', 'blur', ... or a BaselineMasker")
        return SoftMasker(masker)

    def aggregator(self, ctx: Context, s: Settings) -> tuple[type[Aggregator], dict[str, Any]]:
        return JansenAggregator, {"n_designs": s.options.n_designs, **grid_smoothing(s)}
