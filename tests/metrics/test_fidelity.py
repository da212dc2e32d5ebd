"""µFidelity: +1 for a map whose cell sums are the cells' true effects, −1 reversed, 0 for a flat map."""

from __future__ import annotations

import numpy as np
import pytest

from peephole.errors import InputError
from peephole.metrics import mu_fidelity

H, W, CELLS = 24, 24, 3
WEIGHTS = np.arange(1.0, 10.0).reshape(3, 3)  # one per cell of the 3×3 grid
WHITE = np.ones((H, W, 3), np.float32)


def linear(batch: np.ndarray) -> np.ndarray:
    """f = Σ_c w_c · mean(cell c): filling cell c with black drops f by exactly w_c."""
    cells = np.asarray(batch, np.float64)[..., 0].reshape(len(batch), 3, 8, 3, 8).mean(axis=(2, 4))
    f = (cells * WEIGHTS).sum((1, 2))
    return np.stack([f, -f], 1)


def faithful_map() -> np.ndarray:
    return np.kron(WEIGHTS / 64, np.ones((8, 8)))  # each cell's pixels sum to its weight


def test_a_map_of_the_true_effects_scores_one_and_its_reverse_minus_one():
    kw = {"region_options": {"cells": CELLS}, "n_samples": 50, "output": "scores"}
    good = mu_fidelity(linear, WHITE, faithful_map(), 0, **kw)
    np.testing.assert_allclose(good.drops, good.sums, atol=1e-9)
    assert good.correlation == pytest.approx(1.0) and good.n_queries <= 51  # a repeated subset is queried once
    assert mu_fidelity(linear, WHITE, -faithful_map(), 0, **kw).correlation == pytest.approx(-1.0)
    assert mu_fidelity(linear, WHITE, np.ones((H, W)), 0, **kw).correlation < 0.95  # counts cells, not their effects
    assert mu_fidelity(linear, WHITE, np.zeros((H, W)), 0, **kw).correlation == 0.0
    assert good.params == {"metric": "mu_fidelity", "fill": "black", "regions": "grid", "region_options": {"cells": 3}}


def test_samples_remove_about_subset_percent_of_the_regions_and_are_seeded():
    r = mu_fidelity(linear, WHITE, faithful_map(), 0, region_options={"cells": CELLS}, n_samples=400, output="scores", seed=3)
    removed = r.drops / WEIGHTS.sum()  # not exact: weights differ, but the mean share of weight removed is ~0.2
    assert removed.mean() == pytest.approx(0.2, abs=0.03)
    again = mu_fidelity(linear, WHITE, faithful_map(), 0, region_options={"cells": CELLS}, n_samples=400, output="scores", seed=3)
    np.testing.assert_array_equal(again.drops, r.drops)


def test_bad_arguments_are_one_clear_error():
    with pytest.raises(InputError, match="subset_percent"):
        mu_fidelity(linear, WHITE, faithful_map(), 0, subset_percent=1.5, output="scores")
    with pytest.raises(InputError, match="tile the input once"):
        mu_fidelity(linear, WHITE, faithful_map(), 0, regions="superpixels", output="scores")
