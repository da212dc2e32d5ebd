"""Sobol attribution: the replicated designs, and total indices of an additive model against their exact values."""

from __future__ import annotations

import numpy as np
import pytest
from conftest import RegionMeanModel

import peephole
from peephole.errors import InputError
from peephole.methods.sobol import sobol_designs

H, W = 16, 16
WHITE = np.ones((H, W, 3), np.float32)
COEF = np.array([1.0, 2.0, 3.0, 0.0])  # one per cell of the 2×2 grid, row-major


def additive(batch: np.ndarray) -> np.ndarray:
    """f = Σ_j a_j · (mean of cell j): on a white image masked towards black, cell j's mean is its design value."""
    b = np.asarray(batch, np.float64)[..., 0]
    cells = b.reshape(len(b), 2, 8, 2, 8).mean(axis=(2, 4)).reshape(len(b), 4)
    f = cells @ COEF
    return np.stack([f, -f], axis=1)


def test_sobol_designs_replicate_one_column_each():
    z = sobol_designs(3, 8, seed=1)
    a, c = z[:8], z[8:].reshape(3, 8, 3)
    assert z.shape == (32, 3) and z.min() >= 0 and z.max() < 1
    for j in range(3):
        others = [k for k in range(3) if k != j]
        np.testing.assert_array_equal(c[j][:, others], a[:, others])
        assert (c[j][:, j] != a[:, j]).all()
    np.testing.assert_array_equal(z, sobol_designs(3, 8, seed=1))


def test_total_indices_of_an_additive_model_match_the_analytical_ones():
    """Independent U[0, 1) inputs, f = Σ a_j x_j: S_Tj = a_j² / Σ a_k² (no interactions)."""
    e = peephole.explain(additive, WHITE, "sobol", targets=0, output="scores", cells=2, n_designs=1024, seed=0)
    assert e.n_queries == 1024 * 5 + 1  # N·(d + 1) designs + the input itself
    got = e.maps[0][::8, ::8].ravel()
    np.testing.assert_allclose(got, COEF**2 / (COEF**2).sum(), atol=0.02)


def test_sobol_ranks_the_only_cell_the_model_reads_first_and_checks_its_options():
    cell = (slice(4, 8), slice(8, 12))  # cell (1, 2) of a 4×4 grid
    e = peephole.explain(RegionMeanModel(cell), WHITE, "sobol", targets=1, cells=4, n_designs=16)
    outside = np.ones((H, W), bool)
    outside[cell] = False
    assert e.maps[0][cell].min() > 0.9 and e.maps[0][outside].max() < 0.01
    with pytest.raises(InputError, match="n_designs must be a power of two"):
        peephole.explain(RegionMeanModel(cell), WHITE, "sobol", targets=1, n_designs=24)


def test_sobol_over_several_segmentations_draws_designs_per_segmentation():
    from conftest import textured_image

    region = (slice(12, 30), slice(36, 56))
    e = peephole.explain(
        RegionMeanModel(region), textured_image(48, 64), "sobol", targets=1, partition="superpixels", n_designs=2
    )
    parts = e.params["n_parts"]
    assert e.partition.n_parts == 2 * (parts + e.partition.n_groups)  # N·(d_g + 1) per group
    inside = np.zeros((48, 64), bool)
    inside[region] = True
    assert e.maps[0][inside].mean() > 2 * e.maps[0][~inside].mean()
