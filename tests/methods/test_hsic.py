"""HSIC attribution: the estimator against the paper's matrix form, the designs, and a known region."""

from __future__ import annotations

import numpy as np
import pytest
from conftest import RegionMeanModel

import peephole
from peephole.errors import InputError
from peephole.methods.hsic import hsic_scores, lhs_designs

H, W = 48, 64
CELL = (slice(12, 18), slice(40, 48))  # cell (2, 5) of the 8×8 grid (cells of 6×8 pixels)
WHITE = np.ones((H, W, 3), np.float32)


def test_hsic_scores_equal_the_centred_gram_trace():
    """tr(H K_j H L) / n with Xplique's kernels (binary 1.5 − (a − b)², RBF of width median(y)), written out."""
    rng = np.random.default_rng(0)
    z = rng.random((40, 5)) < 0.5
    y = rng.random(40) + z[:, 1] * 2.0
    n = len(y)
    h = np.eye(n) - 1 / n
    gram = np.exp(-((y[:, None] - y[None]) ** 2) / (2 * np.median(y) ** 2))
    want = [np.trace(h @ (1.5 - (z[:, [j]] * 1.0 - z[:, j][None]) ** 2) @ h @ gram) / n for j in range(5)]
    np.testing.assert_allclose(hsic_scores(z, y), want, rtol=1e-10)
    assert int(np.argmax(hsic_scores(z, y))) == 1


def test_lhs_designs_are_balanced_binary_and_seeded():
    z = lhs_designs(64, 500, seed=3)
    assert z.dtype == bool and z.shape == (500, 64)
    np.testing.assert_array_equal(z.sum(0), 250)  # a Latin hypercube puts half of each column's strata above 0.5
    np.testing.assert_array_equal(z, lhs_designs(64, 500, seed=3))
    assert (z != lhs_designs(64, 500, seed=4)).any()


def test_hsic_ranks_the_only_cell_the_model_reads_first():
    e = peephole.explain(RegionMeanModel(CELL), WHITE, "hsic", targets=1, seed=0)
    assert e.n_queries <= 501 and e.params["partition"] == "grid" and e.params["masker"] == "black"
    m = e.maps[0]
    assert np.all(m[CELL] == m[CELL][0, 0])  # one value per cell
    outside = np.ones((H, W), bool)
    outside[CELL] = False
    assert m[CELL].min() > 5 * m[outside].max()


def test_hsic_runs_on_superpixels_and_refuses_overlapping_windows():
    e = peephole.explain(RegionMeanModel(CELL), WHITE, "hsic", targets=1, n_designs=60, partition="slic", n_segments=20)
    assert e.maps.shape == (1, H, W) and np.isfinite(e.maps).all()
    with pytest.raises(InputError, match="tile the input"):
        peephole.explain(RegionMeanModel(CELL), WHITE, "hsic", targets=1, partition="window", radius=6, stride=4)


def test_hsic_over_several_segmentations_splits_its_designs_among_them():
    from conftest import textured_image

    region = (slice(12, 30), slice(36, 56))
    e = peephole.explain(RegionMeanModel(region), textured_image(H, W), "hsic", targets=1, partition="superpixels", n_designs=200)
    assert e.partition.n_groups > 1 and e.partition.n_parts == 200  # each segmentation its own block of designs
    inside = np.zeros((H, W), bool)
    inside[region] = True
    assert e.maps[0][inside].mean() > e.maps[0][~inside].mean()


def test_smooth_resizes_the_grid_values_cubically_and_needs_the_grid():
    e = peephole.explain(RegionMeanModel(CELL), WHITE, "hsic", targets=1, seed=0, smooth=True)
    painted = peephole.explain(RegionMeanModel(CELL), WHITE, "hsic", targets=1, seed=0)
    m = e.maps[0]
    assert m.shape == (H, W) and len(np.unique(m[CELL])) > 1  # no longer one value per cell
    row, col = np.unravel_index(np.argmax(m), m.shape)
    assert CELL[0].start <= row < CELL[0].stop and CELL[1].start <= col < CELL[1].stop
    centre = (CELL[0].start + 3, CELL[1].start + 4)  # a cell's values sit at its centre, as in a resize of the 8×8 grid
    assert m[centre] == pytest.approx(painted.maps[0][centre], rel=0.2)
    other = peephole.explain(RegionMeanModel(CELL), WHITE, "hsic", targets=0, seed=0, smooth=True)
    np.testing.assert_allclose(e.map_for(0), other.maps[0], rtol=1e-5, atol=1e-7)  # saved with the aggregator
    with pytest.raises(InputError, match="smooth=True resizes the cells of partition='grid'"):
        peephole.explain(RegionMeanModel(CELL), WHITE, "hsic", targets=1, smooth=True, partition="slic")
