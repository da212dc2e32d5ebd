"""Maskers for arrays whose leading axis is partitioned (signals ``(T,)``/``(T, C)``, tabular rows ``(F,)``)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from peephole.core.perturb import BaselineMasker, Masker
from peephole.core.query import real_numbers
from peephole.errors import InputError


class ConstantBaseline(BaselineMasker):
    """Hidden positions take one value: a number, or ``'mean'`` / ``'median'`` of x (per channel)."""

    def __init__(self, value: float | str = 0.0) -> None:
        if isinstance(value, str) and value not in ("mean", "median"):
            raise InputError(f"unknown baseline {value!r}; use a number, 'mean' or 'median'")
        if not isinstance(value, str) and not np.isfinite(baseline_values(value)).all():
            raise InputError(f"the baseline must be a finite number, got {value!r}")
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
        self.values = baseline_values(values)
        if self.values.ndim == 0 or not np.isfinite(self.values).all():
            raise InputError(f"per-position baseline values must be finite numbers, one per position, got {values!r}")

    def baseline(self, x: np.ndarray) -> np.ndarray:
        if self.values.shape[0] != x.shape[0]:
            raise InputError(f"baseline holds {self.values.shape[0]} values for an input of {x.shape[0]} positions")
        return self.values.reshape(self.values.shape + (1,) * (x.ndim - self.values.ndim))


def baseline_values(values: Any) -> np.ndarray:
    """``values`` as float64; an :class:`InputError` when they are no real numbers (a dict, strings, complex)."""
    try:
        return real_numbers(values)
    except (TypeError, ValueError) as exc:
        raise InputError(f"a sequence baseline must be real numbers, got {values!r}: {exc}") from exc


def make_sequence_masker(spec: float | str | Sequence[float] | np.ndarray | Masker) -> Masker:
    """A number or ``'mean'`` / ``'median'`` (:class:`ConstantBaseline`), per-position values
    (:class:`FeatureBaseline`), or a :class:`Masker` as given."""
    if isinstance(spec, Masker):
        return spec
    if isinstance(spec, (str, int, float)) or np.ndim(spec) == 0 and not isinstance(spec, dict):
        return ConstantBaseline(spec)
    return FeatureBaseline(spec)
