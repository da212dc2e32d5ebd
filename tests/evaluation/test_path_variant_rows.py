"""docs/results.md's "PAMI path's magnitudes from its own surrogate" and "PAMI path's map smoothed after the call": the
paired differences, the plans' rules and the random-map control reproduce from the rows kept in
experiments/path_surrogate/rows and experiments/path_smooth/rows (``experiments/path_stability.py`` and
``experiments/path_smooth/control.py`` output, one JSON line per photo)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

EXPERIMENTS = Path(__file__).resolve().parents[2] / "experiments"
FILLS = ("blur", "grey")  # "deletion_cross_blur": made with blur, scored on grey


def _rows(path: Path) -> dict[tuple[str, str], dict]:
    return {(r["photo"], r["method"]): r for r in map(json.loads, path.read_text().splitlines())}


def _paired(rows: dict, variant: str, keys: tuple[str, ...], n: int) -> tuple[float, float]:
    """Mean ± paired s.e. over the photos of ``variant`` minus the default, of the mean of ``keys``."""
    photos = sorted(p for p, m in rows if m == variant)
    assert len(photos) == n and all((p, "pami-path") in rows for p in photos)
    d = np.array([np.mean([rows[p, variant][k] - rows[p, "pami-path"][k] for k in keys]) for p in photos])
    return float(d.mean()), float(d.std(ddof=1) / np.sqrt(len(d)))


MU = ("mu_fidelity", "mu_fidelity_grey")
DELETION = tuple(f"deletion_cross_{f}" for f in FILLS)
INSERTION = tuple(f"insertion_cross_{f}" for f in FILLS)

# (rows file, variant, keys, photos) -> the published mean ± paired s.e.
PUBLISHED = {
    ("path_surrogate/rows/dev10.jsonl", "pami-path-vsur", ("mu_fidelity",), 10): (0.027, 0.022),
    ("path_surrogate/rows/dev10.jsonl", "pami-path-vsur", ("mu_fidelity_grey",), 10): (0.004, 0.026),
    ("path_surrogate/rows/dev10.jsonl", "pami-path-vsur", MU, 10): (0.015, 0.016),
    ("path_smooth/rows/dev10.jsonl", "pami-path-smooth8", ("insertion_cross_blur",), 10): (-0.012, 0.037),
    ("path_smooth/rows/dev10.jsonl", "pami-path-smooth8", ("deletion_cross_grey",), 10): (-0.054, 0.030),
    ("path_smooth/rows/dev10.jsonl", "pami-path-smooth8", MU, 10): (-0.000, 0.008),
    ("path_smooth/rows/dev10.jsonl", "pami-path-smooth16", ("deletion_cross_blur",), 10): (-0.014, 0.034),
    ("path_smooth/rows/dev10.jsonl", "pami-path-smooth16", MU, 10): (-0.015, 0.018),
    ("path_smooth/rows/confirm.jsonl", "pami-path-smooth8", ("insertion_cross_grey",), 12): (-0.042, 0.022),
    ("path_smooth/rows/confirm.jsonl", "pami-path-smooth8", DELETION, 12): (-0.036, 0.015),
    ("path_smooth/rows/confirm.jsonl", "pami-path-smooth8", INSERTION, 12): (-0.031, 0.016),
    ("path_smooth/rows/confirm.jsonl", "pami-path-smooth8", MU, 12): (0.016, 0.005),
}


@pytest.mark.parametrize(("rows", "variant", "keys", "n"), sorted(PUBLISHED))
def test_the_published_paired_differences_reproduce(rows, variant, keys, n):
    mean, se = _paired(_rows(EXPERIMENTS / rows), variant, keys, n)
    assert (round(mean, 3), round(se, 3)) == pytest.approx(PUBLISHED[rows, variant, keys, n], abs=1.5e-3)


def test_the_variants_keep_the_defaults_curves_where_their_plans_say_so():
    """values='surrogate' changes only magnitudes: every insertion and deletion row equals the default's."""
    rows = _rows(EXPERIMENTS / "path_surrogate/rows/dev10.jsonl")
    photos = [p for p, m in rows if m == "pami-path-vsur"]
    keys = [k for k in rows[photos[0], "pami-path"] if k.startswith(("insertion", "deletion"))]
    assert len(keys) == 8 and all(rows[p, "pami-path-vsur"][k] == rows[p, "pami-path"][k] for p in photos for k in keys)


def test_the_plans_rules_give_the_published_verdicts():
    """vsur: mean µFidelity gain not above one s.e. (no confirmation). smooth: both pass on photos 1–10, smooth8 has
    the lower deletion; on 15–26 its deletion and µFidelity rules hold and its insertion rule fails."""
    vsur = _paired(_rows(EXPERIMENTS / "path_surrogate/rows/dev10.jsonl"), "pami-path-vsur", MU, 10)
    assert not vsur[0] > vsur[1]
    first = _rows(EXPERIMENTS / "path_smooth/rows/dev10.jsonl")
    deletion = {}
    for v in ("pami-path-smooth8", "pami-path-smooth16"):
        assert all(_paired(first, v, (k,), 10)[0] < 0 for k in DELETION)
        for keys in (INSERTION, MU):
            mean, se = _paired(first, v, keys, 10)
            assert mean >= -se
        deletion[v] = _paired(first, v, DELETION, 10)[0]
    assert min(deletion, key=deletion.get) == "pami-path-smooth8"
    confirm = _rows(EXPERIMENTS / "path_smooth/rows/confirm.jsonl")
    assert _paired(confirm, "pami-path-smooth8", DELETION, 12)[0] <= 0
    assert _paired(confirm, "pami-path-smooth8", MU, 12)[0] >= 0
    assert _paired(confirm, "pami-path-smooth8", INSERTION, 12)[0] < 0


def test_the_random_map_control_reproduces():
    rows = [json.loads(line) for line in (EXPERIMENTS / "path_smooth/rows/control.jsonl").read_text().splitlines()]
    assert len(rows) == 10
    for key, published in {"deletion_blur": (-0.088, 0.037), "deletion_grey": (0.035, 0.037)}.items():
        d = np.array([r[f"random-smooth_{key}"] - r[f"random_{key}"] for r in rows])
        assert (round(d.mean(), 3), round(d.std(ddof=1) / np.sqrt(len(d)), 3)) == pytest.approx(published, abs=1.5e-3)
