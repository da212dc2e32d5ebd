"""docs/results.md's "PAMI path spending the queries it leaves unused": the paired differences reproduce from the rows
kept in experiments/path_budget/rows (``experiments/path_stability.py`` output, one JSON line per photo and method)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

ROWS = Path(__file__).resolve().parents[2] / "experiments" / "path_budget" / "rows"


def _rows(method: str) -> dict[str, dict]:
    return {r["photo"]: r for r in map(json.loads, (ROWS / f"{method}.jsonl").read_text().splitlines())}


def _paired(variant: str, key: str) -> tuple[float, float]:
    base, other = _rows("pami-path"), _rows(variant)
    assert sorted(base) == sorted(other) and len(base) == 10
    d = np.array([other[p][key] - base[p][key] for p in base])
    return float(d.mean()), float(d.std(ddof=1) / np.sqrt(len(d)))


# (variant, row key) -> the published mean ± paired s.e.; "cross_blur" = made with blur, scored on grey
PUBLISHED = {
    ("pami-path-s300", "insertion_cross_blur"): (-0.008, 0.011),
    ("pami-path-s300", "insertion_cross_grey"): (-0.005, 0.010),
    ("pami-path-s300", "deletion_cross_blur"): (0.004, 0.006),
    ("pami-path-s300", "deletion_cross_grey"): (-0.002, 0.013),
    ("pami-path-s300", "mu_fidelity"): (0.019, 0.019),
    ("pami-path-seg70", "insertion_cross_blur"): (-0.001, 0.053),
    ("pami-path-seg70", "insertion_cross_grey"): (0.031, 0.037),
    ("pami-path-seg70", "deletion_cross_blur"): (0.015, 0.020),
    ("pami-path-seg70", "deletion_cross_grey"): (-0.018, 0.016),
    ("pami-path-seg70", "mu_fidelity"): (0.058, 0.033),
}


@pytest.mark.parametrize(("variant", "key"), sorted(PUBLISHED))
def test_the_published_paired_differences_reproduce(variant, key):
    mean, se = _paired(variant, key)
    assert (round(mean, 3), round(se, 3)) == pytest.approx(PUBLISHED[variant, key], abs=1.5e-3)


def test_neither_variant_lowers_cross_fill_deletion_in_both_directions():
    """The plan's rule: a variant goes on only if its cross-fill deletion is lower than the default's both ways."""
    for variant in ("pami-path-s300", "pami-path-seg70"):
        both = [_paired(variant, f"deletion_cross_{fill}")[0] for fill in ("blur", "grey")]
        assert not all(d < 0 for d in both), variant
