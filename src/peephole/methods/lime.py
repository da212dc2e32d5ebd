"""LIME (Ribeiro et al., KDD 2016) on the engine, for every modality: a linear surrogate over the parts.

Sample ``i`` keeps a random subset of the parts (each on with probability 1/2, drawn from the seeded
generator ``(seed, i)``; sample 0 keeps all of them, as in LIME); the hidden parts take the masker's
values. A weighted ridge regression (scikit-learn, ``alpha=1``) of the class output on the on/off
vectors z, with LIME's kernel ``π(z) = sqrt(exp(−d²/w²))``, ``d`` the cosine distance to the all-on
vector and ``w = 0.25``, gives one weight per part; the map paints it on the part's features.

Parts: on images one SLIC segmentation of ~50 superpixels (one of PAMI's Table 3 settings, about as
many as LIME's quickshift), on texts the words, on sequences the modality's windows. Any partition
works. A partition of several groups (PAMI's overlapping segmentations) splits the ``n_samples``
among the groups: each group gets its own block of coalitions of its own parts (see
:func:`grouped_samples`) and its own fit, and the groups' maps are averaged (as Eq. 1 averages them).
``density=True`` paints ``w_j / |part j|`` instead of ``w_j``: the linear surrogate's weight per
feature, which ranks a small part with the same weight as a large one first. ``weigh_groups=True``
averages the groups' maps weighted by how well each group's surrogate explains its outputs,
``M = Σ_g R²_g M_g / Σ_g R²_g`` (R²_g the kernel-weighted coefficient of determination of group g's
fit, clipped at 0; equal weights when every R²_g is 0), for groups that tile the input.

Written on the engine rather than with the ``lime`` package: its ``LimeImageExplainer`` runs its own
loop over the classifier (no shared batching, no query count) and segments with quickshift; the
regression is the few lines of :meth:`LimeFit.fit`. :mod:`peephole.methods.kernel_shap` swaps only
the sampling, the kernel and the fit (as Captum's ``KernelShap(Lime)``).
"""

from __future__ import annotations

from collections.abc import Callable
from time import perf_counter
from typing import Any

import numpy as np

from peephole.core.aggregate import Aggregator
from peephole.core.partition import Coalitions, Partition
from peephole.core.run import run
from peephole.errors import InputError
from peephole.modalities.image.superpixels import Segmentation
from peephole.pipeline import Request, prepare
from peephole.result import Explanation

#: Default parts and masker per modality (else the modality's own defaults).
DEFAULT_PARTITION = {"image": Segmentation("slic", {"n_segments": 50, "compactness": 20})}
DEFAULT_MASKER = {"image": "grey"}
KERNEL_WIDTH = 0.25

Sampler = Callable[[int, int, int], np.ndarray]


def lime_samples(n_parts: int, n_samples: int, seed: int = 0) -> np.ndarray:
    """On/off vectors ``(n_samples, n_parts)`` bool of the seeded sample sequence (sample 0: all on)."""
    z = np.empty((n_samples, n_parts), bool)
    for i in range(n_samples):
        z[i] = True if i == 0 else np.random.default_rng([seed, i]).random(n_parts) < 0.5
    return z


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


def part_names(parts: Partition) -> str | list[str]:
    """What the saved parameters call a partition: its segmentations' names, else its class."""
    return getattr(parts, "names", None) or type(parts).__name__


class LimeFit(Aggregator):
    """Maps from a weighted linear fit of the outputs on the coalitions: ``kernel`` weighs, ``fit`` solves
    (per group of parts, on that group's rows and parts)."""

    partition: Coalitions

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
        self.rows.append(np.asarray(scores, np.float64))

    def kernel(self, z: np.ndarray) -> np.ndarray:
        """LIME's exponential kernel on the cosine distance to the all-on vector."""
        from sklearn.metrics.pairwise import cosine_distances

        d = cosine_distances(z.astype(np.float64), np.ones((1, z.shape[1])))[:, 0]
        return np.sqrt(np.exp(-(d**2) / self.params["kernel_width"] ** 2))

    def fit(self, z: np.ndarray, y: np.ndarray, w: np.ndarray) -> np.ndarray:
        """Ridge regression per target: ``(n, d)`` on/off, ``(n, K)`` outputs -> weights ``(K, d)``."""
        from sklearn.linear_model import Ridge

        zf = z.astype(np.float64)
        return np.stack([Ridge(alpha=self.params["alpha"]).fit(zf, y[:, k], sample_weight=w).coef_ for k in range(y.shape[1])])

    def maps(self) -> np.ndarray:
        return self.partition.paint(self.weights(), self.params["density"]).astype(np.float32)

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
            weights[:, cols] = self.fit(z, y[rows], w)
            if weigh:
                r2[:, g] = fit_r2(z, y[rows], w, weights[:, cols])
        if weigh:  # M = Σ_g R²_g M_g / Σ_g R²_g; paint averages the groups, so scale group g by G·share_g
            total = r2.sum(1, keepdims=True)
            share = np.where(total > 0, r2 / np.where(total > 0, total, 1), 1 / n_groups)
            weights *= n_groups * share[:, part.parts.groups]
        return weights


def surrogate(
    req: Request,
    name: str,
    n_samples: int,
    sample: Callable[[int, int, int], np.ndarray],
    aggregator: type[LimeFit],
    params: dict[str, Any],
    partition: Any,
    masker: Any,
    partition_options: dict[str, Any],
) -> Explanation:
    """The body LIME and KernelSHAP share: parts, ``sample(n_parts, n_samples, seed)`` coalitions, queries, fit."""
    if n_samples < 2:
        raise InputError(f"{name} needs n_samples >= 2, got {n_samples}")
    t0 = perf_counter()
    ctx = prepare(req)
    mod = ctx.modality
    spec = DEFAULT_PARTITION.get(mod.name, mod.default_partition) if partition is None else partition
    parts = mod.partition(ctx.x, spec, req.seed, **partition_options)
    t_segment = perf_counter() - t0
    part = Coalitions(parts, *grouped_samples(parts, n_samples, sample, req.seed))
    mask = mod.masker(DEFAULT_MASKER.get(mod.name, mod.default_masker) if masker is None else masker)
    res = run(
        ctx.query, ctx.x, part, mask, ctx.targets, ctx.batch_size, req.progress, aggregator, params, ctx.reference, desc=name
    )
    return ctx.explanation(
        name,
        res.maps,
        res.scores,
        partition=part,
        aggregator=res.aggregator,
        timings={"segment": t_segment, **res.timings, "total": perf_counter() - t0},
        params={
            "n_samples": len(part.z),
            "n_parts": parts.n_parts,
            "partition": spec if isinstance(spec, str) else getattr(spec, "name", None) or part_names(parts),
            "masker": masker if isinstance(masker, (str, float, int)) or masker is None else type(mask).__name__,
            **partition_options,
            **params,
            "seed": req.seed,
            "batch_size": ctx.batch_size,
        },
    )


def lime(
    req: Request,
    n_samples: int = 1000,
    partition: Any = None,
    masker: Any = None,
    kernel_width: float = KERNEL_WIDTH,
    alpha: float = 1.0,
    density: bool = False,
    weigh_groups: bool = False,
    **partition_options: Any,
) -> Explanation:
    """LIME weights of the parts of ``partition`` (``n_samples`` queries, the all-on sample included)."""
    params = {"kernel_width": kernel_width, "alpha": alpha, "density": density, "weigh_groups": weigh_groups}
    return surrogate(req, "lime", n_samples, lime_samples, LimeFit, params, partition, masker, partition_options)
