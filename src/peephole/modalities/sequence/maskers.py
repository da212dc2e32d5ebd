"""Maskers for arrays whose leading axis is partitioned (signals ``(T,)``/``(T, C)``, tabular rows ``(F,)``)."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from peephole.core.perturb import BaselineMasker, Masker
from peephole.errors import InputError


class ConstantBaseline(BaselineMasker):
    """Hidden positions take one value: a number, or ``'mean'`` / ``'median'`` of x (per channel)."""

    def __init__(self, value: float | str = 0.0) -> None:
        if isinstance(value, str) and value not in ("mean", "median"):
            raise InputError(f"unknown baseline {value!r}; use a number, 'mean' or 'median'")
        self.value = value

    def baseline(self, x: np.ndarray) -> np.ndarray:
        if self.value == "mean":
            return x.mean(axis=0)
        if self.value == "median":
            return np.median(x, axis=0)
        return np.asarray(self.value, dtype=x.dtype)


class FeatureBaseline(BaselineMasker):
    """Hidden positions take a per-position reference value (e.g. the training mean of each feature)."""

    def __init__(self, values: Sequence[float] | np.ndarray) -> None:
        self.values = np.asarray(values, dtype=np.float64)

    def baseline(self, x: np.ndarray) -> np.ndarray:
        if self.values.shape[0] != x.shape[0]:
            raise InputError(f"baseline holds {self.values.shape[0]} values for an input of {x.shape[0]} positions")
        return self.values.reshape(self.values.shape + (1,) * (x.ndim - self.values.ndim))


def make_sequence_masker(spec: float | str | Sequence[float] | np.ndarray | Masker) -> Masker:
    """A number or ``'mean'`` / ``'median'`` (:class:`ConstantBaseline`), per-position values
    (:class:`FeatureBaseline`), or a :class:`Masker` as given."""
    if isinstance(spec, Masker):
        return spec
    if isinstance(spec, (str, int, float)):
        return ConstantBaseline(spec)
    return FeatureBaseline(spec)
