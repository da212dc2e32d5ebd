"""What LIME, KernelSHAP and PAMI path share: coalitions of parts and a weighted linear fit over them.

Sample ``i`` of :func:`lime_samples` keeps a random subset of the parts (each on with probability 1/2, drawn from
the seeded generator ``(seed, i)``; sample 0 keeps all of them, as in LIME). :func:`orthogonal_samples` (PAMI
path's) is a fixed two-level orthogonal design instead: no seed, every part on in half the rows.

A partition of several groups (PAMI's overlapping segmentations) splits the samples among the groups
(:func:`grouped_samples`): each group gets its own block of coalitions of its own parts and its own fit.
:class:`LimeFit` is the aggregator (LIME's kernel and ridge fit; KernelSHAP overrides both) and
:class:`Surrogate` the method template both methods fill in.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, ClassVar

import numpy as np

from peephole.core.aggregate import Aggregator
from peephole.core.options import require, values
from peephole.core.partition import MAX_PARTS, Coalitions, Partition
from peephole.errors import InputError
from peephole.methods.base import PerturbationMethod, Settings
from peephole.pipeline import Context

KERNEL_WIDTH = 0.25

Sampler = Callable[[int, int, int], np.ndarray]


def lime_samples(n_parts: int, n_samples: int, seed: int = 0) -> np.ndarray:
    """On/off vectors ``(n_samples, n_parts)`` bool of the seeded sample sequence (sample 0: all on)."""
    z = np.empty((n_samples, n_parts), bool)
    for i in range(n_samples):
        z[i] = True if i == 0 else np.random.default_rng([seed, i]).random(n_parts) < 0.5
    return z


def orthogonal_samples(n_parts: int, n_samples: int) -> np.ndarray:
    """On/off vectors ``(n_samples, n_parts)`` bool of a two-level orthogonal design and its foldover (Box, Hunter &
    Hunter, *Statistics for Experimenters*, ch. 6), the same for every call.

    Rows ``0 … N−1`` are the rows of the Sylvester–Hadamard matrix ``H_N`` (``N = 2^m ≥ max(n_parts + 1,
    n_samples / 2)``) on columns ``1 … n_parts``: part ``j`` is on in row ``i`` when ``popcount(i & (j + 1))`` is
    even. Over the N rows every part is on in half of them and every two parts' on/off columns are orthogonal, so a
    linear fit separates the parts' main effects with the least variance; row 0 keeps every part (as LIME's sample
    0). Rows ``N …`` are the complements of rows ``0 …`` (the foldover), which frees the main effects from two-part
    interactions."""
    n = max(n_parts + 1, -(-n_samples // 2))
    size = 1 << (n - 1).bit_length()
    rows = np.arange(min(n_samples, size), dtype=np.int64)[:, None] & np.arange(1, n_parts + 1, dtype=np.int64)[None, :]
    z = np.bitwise_count(rows) % 2 == 0
    return np.concatenate([z, ~z[: n_samples - len(z)]])


def grouped_samples(parts: Partition, n_samples: int, sample: Sampler, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Coalitions ``(n, n_parts)`` and the group of each row: group g draws a block of ``n_samples // G``
    (the first ``n_samples % G`` groups one more) coalitions of its own parts with ``sample(n_parts_g,
    n_g, seed + g)``, the other groups' parts off. ``n ≤ n_samples`` (a sampler that enumerates every
    coalition of a small group returns fewer)."""
    groups, n_groups = parts.groups, parts.n_groups
    if n_samples < 2 * n_groups:
        raise InputError(f"{n_samples} samples are too few for {n_groups} groups of parts (at least 2 per group)")
    blocks, rows = [], []
    for g in range(n_groups):
        cols = np.flatnonzero(groups == g)
        drawn = sample(len(cols), n_samples // n_groups + (g < n_samples % n_groups), seed + g)
        block = np.zeros((len(drawn), parts.n_parts), bool)
        block[:, cols] = drawn
        blocks.append(block)
        rows.append(np.full(len(drawn), g))
    return np.concatenate(blocks), np.concatenate(rows)


def fit_r2(z: np.ndarray, y: np.ndarray, w: np.ndarray, coef: np.ndarray) -> np.ndarray:
    """Kernel-weighted R² (clipped at 0) per target of the linear fit ``coef`` ``(K, d)`` of ``y`` ``(n, K)``
    on ``z``, with its best intercept; rows of infinite weight (KernelSHAP's constraints) are left out."""
    keep = np.isfinite(w) & (w > 0)
    if keep.sum() < 2:
        return np.zeros(y.shape[1])
    zf, yk, wk = z[keep].astype(np.float64), y[keep], w[keep][:, None]
    resid = yk - zf @ coef.T
    resid -= (wk * resid).sum(0) / wk.sum()
    spread = yk - (wk * yk).sum(0) / wk.sum()
    ss_res, ss_tot = (wk * resid**2).sum(0), (wk * spread**2).sum(0)
    return np.where(ss_tot > 0, np.clip(1 - ss_res / np.where(ss_tot > 0, ss_tot, 1), 0, None), 0.0)


class LimeFit(Aggregator):
    """Maps from a weighted linear fit of the outputs on the coalitions: ``kernel`` weighs, ``fit`` solves
    (per group of parts, on that group's rows and parts)."""

    partition: Coalitions
    varied: int = 0  #: queries so far that kept some but not all of the input (none: the fit has nothing to explain)

    def __init__(
        self,
        partition: Coalitions,
        reference: np.ndarray,
        kernel_width: float = KERNEL_WIDTH,
        alpha: float = 1.0,
        density: bool = False,
        weigh_groups: bool = False,
    ) -> None:
        super().__init__(
            partition,
            reference,
            kernel_width=float(kernel_width),
            alpha=float(alpha),
            density=bool(density),
            weigh_groups=bool(weigh_groups),
        )
        self.rows: list[np.ndarray] = []

    def add(self, start: int, masks: np.ndarray, scores: np.ndarray) -> None:
        if len(masks):  # pami-path fits its drawn scores without masks
            flat = masks.reshape(len(masks), -1)
            self.varied += int((flat.any(1) & ~flat.all(1)).sum())
        self.rows.append(np.asarray(scores, np.float64))

    def kernel(self, z: np.ndarray) -> np.ndarray:
        """LIME's exponential kernel on the cosine distance to the all-on vector."""
        from sklearn.metrics.pairwise import cosine_distances

        d = cosine_distances(z.astype(np.float64), np.ones((1, z.shape[1])))[:, 0]
        return np.sqrt(np.exp(-((d / np.float64(self.params["kernel_width"])) ** 2)))  # (d/w)²: w² overflows at 1e300

    def fit(self, z: np.ndarray, y: np.ndarray, w: np.ndarray) -> np.ndarray:
        """Ridge regression per target: ``(n, d)`` on/off, ``(n, K)`` outputs -> weights ``(K, d)``."""
        from sklearn.linear_model import Ridge

        zf = z.astype(np.float64)
        return np.stack([Ridge(alpha=self.params["alpha"]).fit(zf, y[:, k], sample_weight=w).coef_ for k in range(y.shape[1])])

    def maps(self) -> np.ndarray:
        """The painted weights; an :class:`InputError` when every query kept all or none of the input (parts so
        large or overlapping that each coalition covers everything): the map would be a constant."""
        part = self.partition
        if not self.varied:
            raise InputError(
                f"each of the {part.n_parts} coalitions of {part.parts.n_parts} parts kept all or none of the input, so "
                "the surrogate has nothing to fit (a constant map); use smaller parts that overlap less (e.g. "
                "partition='window' with a smaller radius or a larger stride, or superpixels) or a larger input"
            )
        return part.paint(self.weights(), self.params["density"]).astype(np.float32)

    def weights(self) -> np.ndarray:
        """The surrogate's weight of every part, ``(n_targets, n_parts)`` (groups weighed when asked)."""
        part = self.partition
        y = np.concatenate(self.rows) if self.rows else np.zeros((0, self.n_targets))
        n_groups, weigh = part.parts.n_groups, self.params["weigh_groups"]
        weights = np.zeros((self.n_targets, part.parts.n_parts))
        r2 = np.zeros((self.n_targets, n_groups))
        for g in range(n_groups):
            rows, cols = part.row_groups == g, np.flatnonzero(part.parts.groups == g)
            z = part.z[np.ix_(rows, cols)]
            w = self.kernel(z)
            varied = z.any(1) & ~z.all(1)
            if varied.any() and not (w[varied] > 0).any():
                raise InputError(
                    f"the kernel gives every coalition that varies the input weight 0 (kernel_width="
                    f"{self.params.get('kernel_width')!r}: exp(−d²/w²) underflows), so the surrogate has nothing to fit; "
                    "use a larger kernel_width (LIME's default is 0.25)"
                )
            weights[:, cols] = self.fit(z, y[rows], w)
            if weigh:
                r2[:, g] = fit_r2(z, y[rows], w, weights[:, cols])
        if weigh:  # M = Σ_g R²_g M_g / Σ_g R²_g; paint averages the groups, so scale group g by G·share_g
            total = r2.sum(1, keepdims=True)
            share = np.where(total > 0, r2 / np.where(total > 0, total, 1), 1 / n_groups)
            weights *= n_groups * share[:, part.parts.groups]
        return weights


@dataclass(frozen=True)
class SurrogateOptions:
    """Options every surrogate method takes (see :mod:`peephole.methods.lime`)."""

    n_samples: int = 1000  #: coalitions drawn (split among the groups of parts)
    density: bool = False  #: paint each part's weight per feature
    weigh_groups: bool = False  #: average the groups' maps weighted by their fits' R²

    def __post_init__(self) -> None:
        require("n_samples", self.n_samples, f"in [2, {MAX_PARTS}]", lambda v: 2 <= v <= MAX_PARTS)


class Surrogate(PerturbationMethod):
    """Coalitions of the parts drawn by :attr:`sample`, a weighted linear fit (:attr:`fit`) of the outputs on them."""

    Options = SurrogateOptions
    sample: Sampler  #: a staticmethod ``sample(n_parts, n_samples, seed)`` -> coalitions ``(n, n_parts)`` bool
    fit: ClassVar[type[LimeFit]]  #: the aggregator: kernel and fit

    def parts(self, ctx: Context, s: Settings, partition: Partition) -> Partition:
        return Coalitions(partition, *grouped_samples(partition, s.options.n_samples, self.sample, ctx.request.seed))

    def aggregator(self, ctx: Context, s: Settings) -> tuple[type[Aggregator], dict[str, Any]]:
        return self.fit, {k: v for k, v in values(s.options).items() if k != "n_samples"}
