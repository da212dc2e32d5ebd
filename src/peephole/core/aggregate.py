"""Aggregators: the model outputs of the perturbed inputs become importance maps.

An aggregator is built for one partition and the reference outputs ``f(x)`` of the targets, then
fed batch by batch (``add``) and asked for the maps once (``maps``). It is data: its class and
``params`` are saved with an explanation, so :meth:`Explanation.map_for` can rebuild any class's
map from the stored outputs without querying the model again.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from typing import Any

import numpy as np

from peephole.core.partition import Partition


class Aggregator(ABC):
    """Maps from per-query outputs. ``reference``: ``f_k(x)`` of each target, shape ``(n_targets,)``."""

    def __init__(self, partition: Partition, reference: np.ndarray, **params: Any) -> None:
        self.partition, self.reference, self.params = partition, np.asarray(reference, np.float64), params
        self.shape = tuple(partition.shape)

    @property
    def n_targets(self) -> int:
        return len(self.reference)

    @abstractmethod
    def add(self, start: int, masks: np.ndarray, scores: np.ndarray) -> None:
        """Queries ``start..start+B-1``: their ``masks`` ``(B, *shape)`` and ``scores`` ``(B, n_targets)``."""

    @abstractmethod
    def maps(self) -> np.ndarray:
        """The importance maps, ``(n_targets, *shape)`` float32."""


class Eq1Aggregator(Aggregator):
    """h_k(x) = (1/N) ∘ Σ_j f_k(x_j) · m_j  (PAMI, Eq. 1), one term per group, groups averaged.

    ``N`` counts, per feature, how many kept parts of the group covered it. Features that no part
    of a group covers get 0 in that group's map. Memory: ``n_groups × n_targets × n_features``.
    """

    def __init__(self, partition: Partition, reference: np.ndarray) -> None:
        super().__init__(partition, reference)
        n = int(np.prod(self.shape))
        self.groups = partition.groups
        self.sums = np.zeros((partition.n_groups, self.n_targets, n), dtype=np.float64)
        self.counts = np.zeros((partition.n_groups, n), dtype=np.float64)

    def add(self, start: int, masks: np.ndarray, scores: np.ndarray) -> None:
        flat = masks.reshape(len(masks), -1).astype(np.float32)
        groups = self.groups[start : start + len(masks)]
        # One matmul per group gives both Σ f_k·m_j (score columns) and N (the column of ones).
        weights = np.hstack([np.asarray(scores, dtype=np.float32), np.ones((len(masks), 1), np.float32)])
        for g in np.unique(groups):
            rows = np.flatnonzero(groups == g)
            both = weights.T @ flat if len(rows) == len(flat) else weights[rows].T @ flat[rows]
            self.sums[g] += both[:-1]
            self.counts[g] += both[-1]

    def maps(self) -> np.ndarray:
        with np.errstate(invalid="ignore", divide="ignore"):
            per_group = np.where(self.counts[:, None] > 0, self.sums / self.counts[:, None], 0.0)
        return per_group.mean(axis=0).reshape((-1, *self.shape)).astype(np.float32)


class FilledEq1Aggregator(Eq1Aggregator):
    """Eq. 1 over partially queried groups: the partition's last group is one empty keep-mask (nothing
    kept), and in every other group a feature that none of its queried parts covers gets that query's
    output f_k(∅) instead of 0 — an unqueried part is taken to carry nothing (adaptive PAMI's refinement).
    The empty group itself is not averaged."""

    def __init__(self, partition: Partition, reference: np.ndarray) -> None:
        super().__init__(partition, reference)
        self.fill = np.zeros(self.n_targets)

    def add(self, start: int, masks: np.ndarray, scores: np.ndarray) -> None:
        super().add(start, masks, scores)
        last = np.flatnonzero(self.groups[start : start + len(masks)] == len(self.sums) - 1)
        if len(last):
            self.fill = np.asarray(scores, np.float64)[last[-1]]

    def maps(self) -> np.ndarray:
        sums, counts = self.sums[:-1], self.counts[:-1, None]
        with np.errstate(invalid="ignore", divide="ignore"):
            per_group = np.where(counts > 0, sums / counts, self.fill[None, :, None])
        return per_group.mean(axis=0).reshape((-1, *self.shape)).astype(np.float32)


class WeightedSumAggregator(Aggregator):
    """Σ_i f_k(x⊙m_i)·m_i / norm (RISE, Eq. 6, with ``norm = N·p``), for soft or hard masks. ``centre``: the outputs
    less their mean, Σ_i (f_k(x⊙m_i) − f̄_k)·m_i / norm — the masks' realised coverage no longer enters the map
    (a model whose output never changes gets a zero map)."""

    def __init__(self, partition: Partition, reference: np.ndarray, norm: float = 1.0, centre: bool = False) -> None:
        super().__init__(partition, reference, norm=float(norm), **({"centre": True} if centre else {}))
        self.sums = np.zeros((self.n_targets, int(np.prod(self.shape))), np.float64)
        self.coverage, self.totals, self.count = np.zeros(self.sums.shape[1]), np.zeros(self.n_targets), 0

    def add(self, start: int, masks: np.ndarray, scores: np.ndarray) -> None:
        flat = masks.reshape(len(masks), -1).astype(np.float32)
        self.sums += np.asarray(scores, np.float32).T @ flat
        if self.params.get("centre"):  # Eq. 6 as published needs none of this
            self.coverage += flat.sum(axis=0, dtype=np.float64)
            self.totals += np.asarray(scores, np.float64).sum(axis=0)
            self.count += len(masks)

    def maps(self) -> np.ndarray:
        sums = self.sums
        if self.count:  # centred
            sums = sums - (self.totals / self.count)[:, None] * self.coverage[None]
        return (sums / self.params["norm"]).reshape((-1, *self.shape)).astype(np.float32)


class DropAggregator(Aggregator):
    """Per feature: mean of ``f_k(x) − f_k(x_j)`` over the queries j that hid it, 0 if none (occlusion)."""

    def __init__(self, partition: Partition, reference: np.ndarray) -> None:
        super().__init__(partition, reference)
        n = int(np.prod(self.shape))
        self.sums, self.counts = np.zeros((self.n_targets, n)), np.zeros(n)

    def add(self, start: int, masks: np.ndarray, scores: np.ndarray) -> None:
        hidden = (~masks).reshape(len(masks), -1).astype(np.float32)
        self.sums += (self.reference[None].astype(np.float32) - np.asarray(scores, np.float32)).T @ hidden
        self.counts += hidden.sum(axis=0)

    def maps(self) -> np.ndarray:
        m = np.where(self.counts > 0, self.sums / np.maximum(self.counts, 1), 0.0)
        return m.reshape((-1, *self.shape)).astype(np.float32)


class ScoresOnly(Aggregator):
    """Builds no map: the caller uses ``RunResult.scores`` (perturbation curves, Score-CAM)."""

    def add(self, start: int, masks: np.ndarray, scores: np.ndarray) -> None:
        return None

    def maps(self) -> np.ndarray:
        return np.zeros((self.n_targets, 0), np.float32)
