"""KernelSHAP (Lundberg & Lee, NeurIPS 2017): LIME with the Shapley kernel and a constrained fit.

The same surrogate as :mod:`peephole.methods.lime` (:mod:`peephole.methods.surrogate`: coalitions of parts,
the modality's masker, a weighted linear fit); only three things change, as in Captum's ``KernelShap(Lime)``:

* **Sampling**: sample 0 keeps every part, sample 1 none; the others draw a coalition size s with
  probability ∝ the Shapley kernel mass of that size, ``(M−1) / (s(M−s))``, then s parts uniformly.
  When ``n_samples ≥ 2^M`` every coalition is enumerated instead.
* **Kernel**: ``π(z) = (M−1) / (C(M, |z|) · |z| · (M−|z|))`` (Lundberg & Lee, Theorem 2) when
  enumerating; sampled coalitions already follow it, so they weigh 1.
* **Fit**: weighted least squares with ``φ_0 = f(∅)`` and ``Σ_j φ_j = f(all) − f(∅)`` exactly
  (efficiency), by eliminating the last weight. With every coalition enumerated the result equals
  the exact Shapley values of the parts.
"""

from __future__ import annotations

from math import comb
from typing import Any

import numpy as np

from peephole.core.aggregate import Aggregator
from peephole.methods.surrogate import LimeFit, Surrogate


def shapley_samples(n_parts: int, n_samples: int, seed: int = 0) -> np.ndarray:
    """Coalitions ``(n, M)``: all-on, all-off, then every other coalition (when they fit) or seeded draws."""
    m = n_parts
    if m <= 20 and n_samples >= 2**m:
        codes = np.arange(2**m)
        z = ((codes[:, None] >> np.arange(m)) & 1).astype(bool)
        order = np.argsort(-z.sum(1) + (z.sum(1) == 0) * (m + 1), kind="stable")  # all-on, all-off first
        return z[np.r_[order[0], order[-1], order[1:-1]]]
    z = np.zeros((n_samples, m), bool)
    z[0] = True
    sizes = np.arange(1, m)
    mass = (m - 1) / (sizes * (m - sizes)) if m > 1 else np.ones(0)
    for i in range(2, n_samples):
        rng = np.random.default_rng([seed, i])
        if m > 1:
            s = int(rng.choice(sizes, p=mass / mass.sum()))
            z[i, rng.choice(m, s, replace=False)] = True
        else:
            z[i] = rng.random() < 0.5
    return z


def shapley_kernel(z: np.ndarray) -> np.ndarray:
    """π(z) of Lundberg & Lee (Theorem 2); infinite at the empty and the full coalition."""
    m, s = z.shape[1], z.sum(1)
    with np.errstate(divide="ignore"):
        return np.array([np.inf if k in (0, m) else (m - 1) / (comb(m, int(k)) * k * (m - k)) for k in s])


class ShapleyFit(LimeFit):
    """The constrained least-squares fit of KernelSHAP (efficiency holds exactly)."""

    def __init__(self, partition: Any, reference: np.ndarray, density: bool = False, weigh_groups: bool = False) -> None:
        # no LIME kernel width or ridge penalty
        Aggregator.__init__(self, partition, reference, density=bool(density), weigh_groups=bool(weigh_groups))
        self.rows = []

    def kernel(self, z: np.ndarray) -> np.ndarray:
        """Exact Shapley kernel weights when every coalition was enumerated; 1 for sampled ones."""
        if len(z) == 2 ** z.shape[1]:
            return shapley_kernel(z)
        return np.where(np.isin(z.sum(1), (0, z.shape[1])), np.inf, 1.0)

    def fit(self, z: np.ndarray, y: np.ndarray, w: np.ndarray) -> np.ndarray:
        m = z.shape[1]
        f_all, f_none = y[np.argmax(z.all(1))], y[np.argmax(~z.any(1))]
        delta = f_all - f_none  # (K,)
        if m == 1:
            return delta[:, None]
        rows = np.isfinite(w)
        zf = z[rows].astype(np.float64)
        # y − f(∅) − z_M·Δ = Σ_{j<M} (z_j − z_M) φ_j, then φ_M = Δ − Σ_{j<M} φ_j.
        a = zf[:, :-1] - zf[:, -1:]
        b = y[rows] - f_none - zf[:, -1:] * delta
        sw = np.sqrt(w[rows])[:, None]
        phi, *_ = np.linalg.lstsq(a * sw, b * sw, rcond=None)
        return np.vstack([phi, delta - phi.sum(0)]).T


class KernelShap(Surrogate):
    """KernelSHAP values of the parts (``n_samples`` queries; exact when ``n_samples ≥ 2^M``).

    Several groups of parts (PAMI's segmentations): each group's Shapley values from its own block of
    ``n_samples / G`` coalitions, the groups' maps averaged; ``density`` and ``weigh_groups`` as in
    :mod:`peephole.methods.lime`."""

    name = "kernel-shap"
    sample = staticmethod(shapley_samples)
    fit = ShapleyFit
