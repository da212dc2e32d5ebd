"""ROAD's noisy linear imputation: exact on planes, seeded noise, kept pixels untouched."""

from __future__ import annotations

import numpy as np
import pytest

from peephole.errors import InputError
from peephole.metrics.road import NoisyLinearMasker, linear_impute

H, W = 20, 24


def ramp() -> np.ndarray:
    yy, xx = np.mgrid[0:H, 0:W]
    return np.stack([0.1 + 0.02 * yy, 0.2 + 0.03 * xx, 0.5 + 0.01 * (yy - xx)], -1).astype(np.float32)


def test_an_interior_hole_in_a_plane_is_filled_by_the_plane():
    """The symmetric 8-neighbour mean of a linear function is its value: the system's solution is the plane."""
    keep = np.ones((H, W), bool)
    keep[5:14, 6:17] = False
    np.testing.assert_allclose(linear_impute(ramp(), keep), ramp(), atol=1e-6)


def test_a_hole_takes_the_mean_of_its_neighbours_when_they_are_all_known():
    x = np.random.default_rng(0).random((H, W, 3)).astype(np.float32)
    keep = np.ones((H, W), bool)
    keep[7, 9] = False
    w = np.array([[1, 2, 1], [2, 0, 2], [1, 2, 1]]) / 12
    want = (x[6:9, 8:11] * w[..., None]).sum((0, 1))
    np.testing.assert_allclose(linear_impute(x, keep)[7, 9], want, atol=1e-6)


def test_the_masker_adds_seeded_noise_to_the_imputed_pixels_only():
    x = ramp()
    keep = np.ones((2, H, W), bool)
    keep[:, 5:14, 6:17] = False
    keep[1, 0, 0] = False
    bound = NoisyLinearMasker(noise=0.05, seed=1).bind(x)
    out = bound(keep)
    np.testing.assert_array_equal(out[0][keep[0]], x[keep[0]])
    assert 0.02 < np.std(out[0][~keep[0]] - x[~keep[0]]) < 0.08
    np.testing.assert_array_equal(bound(keep), out)
    assert not np.array_equal(NoisyLinearMasker(noise=0.05, seed=2).bind(x)(keep), out)
    with pytest.raises(InputError, match="boolean H×W keep-masks"):
        bound(keep.astype(np.float32))


def test_a_curve_filled_by_road_runs_from_the_mean_colour_to_the_image():
    from peephole.metrics import insertion

    def centre(batch):
        s = np.asarray(batch)[:, 8:12, 10:14, 1].mean((1, 2))
        return np.stack([1 - s, s], 1)

    x = ramp()
    nothing_kept = linear_impute(x, np.zeros((H, W), bool))
    np.testing.assert_allclose(nothing_kept, np.broadcast_to(x.reshape(-1, 3).mean(0), x.shape), atol=1e-6)
    c = insertion(centre, x, np.ones((H, W)), 1, fill="road", step=48, output="probs")
    assert c.params["fill"] == "road" and len(c.probabilities) == H * W // 48 + 1
    assert c.probabilities[-1] == pytest.approx(centre(x[None])[0, 1])
    # channel 1 varies along the columns only: once the top rows are kept, the imputation is that plane (up to noise)
    assert c.probabilities[2:] == pytest.approx(np.full(len(c.probabilities) - 2, c.probabilities[-1]), abs=0.02)
