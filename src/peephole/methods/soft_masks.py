"""Engine pieces for baselines whose perturbations are soft (RISE, Score-CAM) or need only the scores.

The engine's partitions usually give bool keep-masks; here a part may be a float mask m in [0, 1]
and the perturbed input is the blend ``m·x + (1 − m)·b(x)`` with the baseline of an image masker.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from peephole.engine.partition import Partition
from peephole.engine.perturb import BaselineMasker, BoundMasker, Masker
from peephole.errors import InputError


class SoftMasker(Masker):
    """``m·x + (1 − m)·b(x)`` for float masks m (bool masks work too); ``b`` from a baseline masker."""

    def __init__(self, base: BaselineMasker) -> None:
        self.base = base

    def bind(self, x: np.ndarray) -> BoundMasker:
        x = np.asarray(x, np.float32)
        b = np.broadcast_to(np.asarray(self.base.baseline(x), np.float32), x.shape)
        diff = x - b

        def apply(m: np.ndarray) -> np.ndarray:
            if m.shape[1:] != x.shape[:2]:
                raise InputError(f"masks of shape {m.shape[1:]} do not match input of shape {x.shape}")
            out = np.multiply(m.astype(np.float32, copy=False)[..., None], diff)  # one buffer, filled in place
            out += b
            return out

        return apply


class FunctionPartition(Partition):
    """``n_parts`` masks made on demand by ``make(start, stop)``; one group."""

    def __init__(self, shape: tuple[int, ...], n_parts: int, make: Callable[[int, int], np.ndarray]) -> None:
        self.shape, self._n, self._make = tuple(shape), int(n_parts), make

    @property
    def n_parts(self) -> int:
        return self._n

    @property
    def groups(self) -> np.ndarray:
        return np.zeros(self._n, np.int64)

    def masks(self, start: int, stop: int) -> np.ndarray:
        return self._make(start, stop)


class ScoresOnly:
    """Aggregator that builds no map: the caller uses ``RunResult.scores``."""

    def __init__(self, shape: tuple[int, ...], n_groups: int, n_targets: int) -> None:
        self.n_targets = n_targets

    def add(self, masks: np.ndarray, scores: np.ndarray, groups: np.ndarray) -> None:
        return None

    def maps(self) -> np.ndarray:
        return np.zeros((self.n_targets, 0), np.float32)
