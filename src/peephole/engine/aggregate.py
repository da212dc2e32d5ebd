"""Aggregation of the model outputs into importance maps (PAMI, Eq. 1)."""

from __future__ import annotations

import numpy as np


class Eq1Aggregator:
    """h_k(x) = (1/N) ∘ Σ_j f_k(x_j) · m_j  (Eq. 1), one term per group, groups averaged.

    ``N`` counts, per feature, how many kept parts of the group covered it. Features that no part
    of a group covers get 0 in that group's map. Memory: ``n_groups × n_targets × n_features``.
    """

    def __init__(self, shape: tuple[int, ...], n_groups: int, n_targets: int) -> None:
        n = int(np.prod(shape))
        self.shape = shape
        self.sums = np.zeros((n_groups, n_targets, n), dtype=np.float64)
        self.counts = np.zeros((n_groups, n), dtype=np.float64)

    def add(self, masks: np.ndarray, scores: np.ndarray, groups: np.ndarray) -> None:
        """Add parts: ``masks`` (B, *shape) bool, ``scores`` (B, n_targets), ``groups`` (B,)."""
        flat = masks.reshape(len(masks), -1).astype(np.float32)
        # One matmul per group gives both Σ f_k·m_j (score columns) and N (the column of ones).
        weights = np.hstack([np.asarray(scores, dtype=np.float32), np.ones((len(masks), 1), np.float32)])
        for g in np.unique(groups):
            rows = np.flatnonzero(groups == g)
            both = weights.T @ flat if len(rows) == len(flat) else weights[rows].T @ flat[rows]
            self.sums[g] += both[:-1]
            self.counts[g] += both[-1]

    def maps(self) -> np.ndarray:
        """The importance maps, ``(n_targets, *shape)`` float32."""
        with np.errstate(invalid="ignore", divide="ignore"):
            per_group = np.where(self.counts[:, None] > 0, self.sums / self.counts[:, None], 0.0)
        return per_group.mean(axis=0).reshape((-1, *self.shape)).astype(np.float32)
