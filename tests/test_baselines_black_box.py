"""RISE, Occlusion and LIME on the engine: they find a known region of a synthetic black box."""

from __future__ import annotations

import numpy as np
import pytest

from peephole.errors import InputError
from peephole.image.windows import SlidingWindows
from peephole.methods.lime import fit_weights, lime
from peephole.methods.occlusion import occlusion
from peephole.methods.rise import rise, rise_masks
from tests.conftest import RegionModel, mass_inside, textured_image

H, W = 48, 64
REGION = (slice(8, 24), slice(36, 56))


class RegionMean:
    """p(class 1) = mean of channel 0 over REGION: linear in what a mask keeps of a white image."""

    output, class_names, preferred_batch_size = "probs", None, None

    def __call__(self, batch):
        s = np.asarray(batch)[:, REGION[0], REGION[1], 0].mean(axis=(1, 2))
        return np.stack([1 - s, s], axis=1)


WHITE = np.ones((H, W, 3), np.float32)


def test_rise_masks_are_seeded_soft_and_keep_about_p():
    a = rise_masks((H, W), 0, 200, cells=7, p=0.5, seed=1)
    np.testing.assert_array_equal(a[50:60], rise_masks((H, W), 50, 60, cells=7, p=0.5, seed=1))
    assert a.dtype == np.float32 and a.min() >= 0 and a.max() <= 1
    assert ((a > 0) & (a < 1)).mean() > 0.0  # bilinear upsampling makes them soft
    assert a.mean() == pytest.approx(0.5, abs=0.05)
    assert rise_masks((H, W), 0, 200, p=0.2).mean() == pytest.approx(0.2, abs=0.04)


def test_rise_normalises_by_n_times_p():
    """A model that ignores its input gives p(class) · mean(mask) / p everywhere, i.e. about p(class)."""

    def const(batch):
        return np.tile([0.3, 0.7], (len(batch), 1))

    e = rise(const, textured_image(H, W), n_masks=400, p=0.25, targets=1, output="probs")
    assert e.maps[0].mean() == pytest.approx(0.7, abs=0.05)
    assert e.n_queries == 401  # 400 masks + the unperturbed image


def test_rise_finds_the_region_and_is_reproducible():
    e = rise(RegionMean(), WHITE, n_masks=600, targets=1, batch_size=50, masker="black")
    inside, outside = mass_inside(e.maps[0], REGION)
    assert inside > 2 * outside
    again = rise(RegionMean(), WHITE, n_masks=600, targets=1, batch_size=7, masker="black")
    np.testing.assert_allclose(again.maps, e.maps, rtol=1e-5, atol=1e-7)


def test_occlusion_hides_windows_and_is_zero_where_no_window_touches_the_region():
    model = RegionModel(REGION)
    e = occlusion(model, textured_image(H, W), radius=5, stride=3, targets=1)
    m = e.maps[0]
    inside, outside = mass_inside(m, REGION)
    assert inside > 3 * outside
    # a pixel whose covering windows (radius 5) all miss the region: hiding them changes nothing
    assert m[40, 5] == 0.0 and m[45, 10] == 0.0
    assert e.n_queries == SlidingWindows(H, W, radius=5, stride=3).n_parts + 1
    assert np.unravel_index(np.argmax(m), m.shape)[0] in range(8, 24)


def test_lime_recovers_the_weights_of_a_linear_black_box():
    """score = Σ_k w_k · [block k intact]; LIME's ridge fit recovers w (slightly shrunk)."""
    labels = (np.arange(H)[:, None] // 16) * 4 + np.arange(W)[None, :] // 16  # 3 × 4 blocks of 16 px
    w = np.zeros(12)
    w[[1, 6, 11]] = [0.5, 1.0, 0.25]

    def linear(batch):
        b = np.asarray(batch)
        intact = np.stack([(b[:, labels == k, 0] != 0.5).all(axis=1) for k in range(12)], axis=1)
        return (intact @ w)[:, None]

    img = np.full((H, W, 3), 0.9, np.float32)
    e = lime(linear, img, n_samples=300, segmentation=labels, targets=0, output="scores")
    per_block = np.array([e.maps[0][labels == k].mean() for k in range(12)])
    assert list(np.argsort(-per_block)[:3]) == [6, 1, 11]
    np.testing.assert_allclose(per_block, w, atol=0.08)
    assert e.n_queries == 301


def test_lime_with_default_superpixels_paints_one_weight_per_superpixel():
    from peephole.methods.lime import DEFAULT_SEGMENTATION

    img = textured_image(H, W)
    e = lime(RegionMean(), img, n_samples=200, targets=1, masker="black")
    labels = DEFAULT_SEGMENTATION(img)
    assert e.params["n_segments"] == len(np.unique(labels)) > 1
    assert all(np.ptp(e.maps[0][labels == k]) == 0 for k in np.unique(labels))
    r, c = np.unravel_index(np.argmax(e.maps[0]), e.maps[0].shape)
    best = labels == labels[r, c]
    assert best[REGION].mean() == max((labels == k)[REGION].mean() for k in np.unique(labels))


def test_fit_weights_uses_lime_kernel_and_bad_settings_are_errors():
    z = np.array([[1, 1], [1, 0], [0, 1], [0, 0], [1, 1]], bool)
    y = np.array([[2.0], [1.5], [0.5], [0.0], [2.0]])
    coef = fit_weights(z, y, alpha=1e-6)
    np.testing.assert_allclose(coef[0], [1.5, 0.5], atol=1e-3)  # y is exactly linear: 1.5·z0 + 0.5·z1
    with pytest.raises(InputError):
        rise(RegionModel(REGION), textured_image(H, W), n_masks=0)
    with pytest.raises(InputError):
        lime(RegionModel(REGION), textured_image(H, W), n_samples=1)
