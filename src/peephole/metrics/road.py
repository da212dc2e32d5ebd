"""ROAD's noisy linear imputation (Rong, Leemann, Borisov, Kasneci & Kasneci, "A Consistent and Efficient
Evaluation Strategy for Attribution Methods", ICML 2022), as a masker for insertion/deletion curves.

Each hidden pixel takes the weighted mean of its 8 neighbours (weight 1/6 for the 4 direct ones, 1/12 for the
diagonals; neighbours outside the image dropped), hidden neighbours being unknowns too: one sparse linear system
per keep-mask (solved by ``scipy.sparse.linalg.spsolve``), then Gaussian noise of standard deviation ``noise`` is
added to the imputed pixels (ROAD's ``NoisyLinearImputer``; values then clipped to the image range [0, 1]). With
no pixel kept (a curve's first insertion step) every constant solves the system: the image's mean colour. The
fill leaks no mask shape through a constant colour, so the curve is not graded by a fill any method searched with.
The noise is seeded by ``seed`` and the number of kept pixels: the same curve gives the same values. Cost: one
sparse solve per query (about 0.1–0.5 s at 224×224 with half of the pixels hidden), so use a coarser ``step``.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from peephole.core.perturb import BoundMasker, Masker
from peephole.errors import InputError

#: (row offset, column offset) -> weight (ROAD's ``neighbors_weights``).
NEIGHBOURS = (
    ((1, 1), 1 / 12),
    ((0, 1), 1 / 6),
    ((-1, 1), 1 / 12),
    ((1, -1), 1 / 12),
    ((0, -1), 1 / 6),
    ((-1, -1), 1 / 12),
    ((1, 0), 1 / 6),
    ((-1, 0), 1 / 6),
)


def linear_impute(x: np.ndarray, keep: np.ndarray) -> np.ndarray:
    """``x`` (H×W×C) with every pixel outside ``keep`` (H×W bool) replaced by the weighted mean of its neighbours."""
    from scipy.sparse import csc_matrix
    from scipy.sparse.linalg import spsolve

    h, w = keep.shape
    flat, known = x.reshape(h * w, -1).astype(np.float64), keep.ravel()
    hidden = np.flatnonzero(~known)
    out = flat.copy()
    if not len(hidden):
        return out.reshape(x.shape)
    if len(hidden) == h * w:  # nothing known: every constant solves the system; take the image's mean colour
        return np.broadcast_to(flat.mean(0), flat.shape).reshape(x.shape).copy()
    unknown = np.full(h * w, -1, np.int64)
    unknown[hidden] = np.arange(len(hidden))
    r, c = np.divmod(hidden, w)
    diag, b = np.ones(len(hidden)), np.zeros((len(hidden), flat.shape[1]))
    rows, cols, vals = [np.arange(len(hidden))], [np.arange(len(hidden))], []
    for (dr, dc), wt in NEIGHBOURS:
        rr, cc = r + dr, c + dc
        inside = (rr >= 0) & (rr < h) & (cc >= 0) & (cc < w)
        diag[~inside] -= wt
        eq, nb = np.flatnonzero(inside), (rr * w + cc)[inside]
        have = known[nb]
        b[eq[have]] -= wt * flat[nb[have]]
        rows.append(eq[~have])
        cols.append(unknown[nb[~have]])
        vals.append(np.full(int((~have).sum()), wt))
    a = csc_matrix((np.concatenate([-diag, *vals]), (np.concatenate(rows), np.concatenate(cols))), shape=(len(hidden),) * 2)
    out[hidden] = np.asarray(spsolve(a, b)).reshape(len(hidden), -1)
    return out.reshape(x.shape)


class NoisyLinearMasker(Masker):
    """Hidden pixels: ROAD's noisy linear imputation from the kept ones (see the module)."""

    def __init__(self, noise: float = 0.01, seed: int = 0) -> None:
        if not noise >= 0:
            raise InputError(f"noise must be >= 0, got {noise!r}")
        self.noise, self.seed = float(noise), int(seed)

    def bind(self, x: Any) -> BoundMasker:
        x = np.asarray(x, np.float32)
        if x.ndim != 3:
            raise InputError(f"ROAD's imputation fills H×W×C images, got an input of shape {x.shape}")

        def apply(keep: np.ndarray) -> np.ndarray:
            if keep.shape[1:] != x.shape[:2] or keep.dtype != bool:
                raise InputError(f"ROAD needs boolean H×W keep-masks of the image's size, got {keep.dtype} {keep.shape[1:]}")
            out = np.empty((len(keep), *x.shape), np.float32)
            for i, k in enumerate(keep):
                filled = linear_impute(x, k)
                noise = np.random.default_rng([self.seed, int(k.sum())]).normal(0, self.noise, filled.shape)
                out[i] = np.clip(np.where(k[..., None], filled, filled + noise), 0, 1)
            return out

        return apply
