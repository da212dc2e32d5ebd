"""Stability: the Spearman rank correlation of maps, here of one method's maps across seeds (a user re-running
the method should get the same ranking of features)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from itertools import combinations

import numpy as np

from peephole.errors import InputError
from peephole.metrics.maps import checked_map


def rank_correlation(a: np.ndarray, b: np.ndarray) -> float:
    """Spearman's ρ between two maps of the same shape (ties get average ranks); 0 when either map is constant."""
    from scipy.stats import spearmanr

    a, b = checked_map(a).ravel(), checked_map(b).ravel()
    if a.shape != b.shape:
        raise InputError(f"maps of {np.shape(a)} and {np.shape(b)} features cannot be compared")
    if np.ptp(a) == 0 or np.ptp(b) == 0:
        return 0.0
    return float(spearmanr(a, b)[0])


def seed_stability(explain: Callable[[int], np.ndarray], seeds: Sequence[int] = (0, 1)) -> list[float]:
    """ρ between the maps ``explain(seed)`` of every pair of ``seeds`` (e.g. ``lambda s: peephole.explain(model, x,
    'lime', seed=s).maps[0]``), in pair order."""
    if len(seeds) < 2:
        raise InputError("seed stability needs at least two seeds")
    maps = {s: explain(s) for s in seeds}
    return [rank_correlation(maps[a], maps[b]) for a, b in combinations(seeds, 2)]
