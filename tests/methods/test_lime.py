"""LIME on the engine: it recovers a linear black box, paints one weight per superpixel, and its fit
is scikit-learn's weighted ridge regression with LIME's kernel."""

from __future__ import annotations

import numpy as np
import pytest
from conftest import RegionMeanModel, RegionModel, textured_image

import peephole
from peephole.core.partition import Coalitions, LabelPartition
from peephole.errors import InputError
from peephole.methods.surrogate import KERNEL_WIDTH, LimeFit, lime_samples
from peephole.modalities.image.superpixels import Segmentation

H, W = 48, 64
REGION = (slice(8, 24), slice(36, 56))


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
    e = peephole.explain(linear, img, method="lime", n_samples=300, partition=labels, targets=0, output="scores")
    per_block = np.array([e.maps[0][labels == k].mean() for k in range(12)])
    assert list(np.argsort(-per_block)[:3]) == [6, 1, 11]
    np.testing.assert_allclose(per_block, w, atol=0.08)
    distinct = len({row.tobytes() for row in e.partition.z})  # a coalition drawn twice is queried once
    assert len(e.scores) == 300 and e.n_queries == 1 + distinct < 301


def test_lime_with_default_superpixels_paints_one_weight_per_superpixel():
    img = textured_image(H, W)
    e = peephole.explain(RegionMeanModel(REGION), img, method="lime", n_samples=200, targets=1, masker="black")
    labels = Segmentation("slic", {"n_segments": 50, "compactness": 20})(img)  # the image modality's 'slic'
    assert e.params["n_parts"] == len(np.unique(labels)) > 1
    assert all(np.ptp(e.maps[0][labels == k]) == 0 for k in np.unique(labels))
    r, c = np.unravel_index(np.argmax(e.maps[0]), e.maps[0].shape)
    best = labels == labels[r, c]
    assert best[REGION].mean() == max((labels == k)[REGION].mean() for k in np.unique(labels))


def lime_fit(z: np.ndarray, n_targets: int = 1, **params) -> LimeFit:
    """A LIME aggregator over ``z.shape[1]`` one-feature parts with coalitions ``z``."""
    parts = LabelPartition(np.arange(z.shape[1]))
    return LimeFit(Coalitions(parts, z), np.zeros(n_targets), **params)


def test_lime_fit_recovers_a_linear_output_and_bad_settings_are_errors():
    z = np.array([[1, 1], [1, 0], [0, 1], [0, 0], [1, 1]], bool)
    y = np.array([[2.0], [1.5], [0.5], [0.0], [2.0]])
    agg = lime_fit(z, alpha=1e-6)
    coef = agg.fit(z, y, agg.kernel(z))
    np.testing.assert_allclose(coef[0], [1.5, 0.5], atol=1e-3)  # y is exactly linear: 1.5·z0 + 0.5·z1
    # the same weights through the aggregator's own path (add, then maps): one part per feature
    agg.add(0, agg.partition.masks(0, len(z)), y)
    np.testing.assert_allclose(agg.maps()[0], coef[0], atol=1e-6)
    with pytest.raises(InputError):
        peephole.explain(RegionModel(REGION), textured_image(H, W), method="lime", n_samples=1)


def test_fit_is_sklearn_weighted_ridge_with_lime_kernel():
    """LimeFit = Ridge(alpha).fit(z, y, sample_weight=π(z)), π(z) = sqrt(exp(−d²/w²)), d the cosine
    distance of z to the all-on vector, w = 0.25 (computed here independently of scikit-learn's distance)."""
    from sklearn.linear_model import Ridge

    z = lime_samples(7, 60, seed=4)
    z[5] = False  # an all-off sample: cosine similarity 0, distance 1
    rng = np.random.default_rng(0)
    y = z @ rng.normal(size=(7, 3)) + 0.1 * rng.normal(size=(60, 3))
    on = z.sum(1)
    d = 1 - np.where(on > 0, on / np.sqrt(np.maximum(on, 1) * z.shape[1]), 0.0)
    pi = np.sqrt(np.exp(-(d**2) / KERNEL_WIDTH**2))
    assert KERNEL_WIDTH == 0.25
    for alpha in (1.0, 0.3):
        agg = lime_fit(z, n_targets=3, alpha=alpha)
        np.testing.assert_allclose(agg.kernel(z), pi, rtol=1e-10)
        expected = np.stack([Ridge(alpha=alpha).fit(z.astype(float), y[:, k], sample_weight=pi).coef_ for k in range(3)])
        np.testing.assert_allclose(agg.fit(z, y, agg.kernel(z)), expected, rtol=1e-8, atol=1e-10)
        agg.add(0, agg.partition.masks(0, 30), y[:30])
        agg.add(30, agg.partition.masks(30, 60), y[30:])
        np.testing.assert_allclose(agg.maps(), expected, rtol=1e-5, atol=1e-6)
    # a wider kernel weighs far samples more: the width is used, not a constant
    wide = lime_fit(z, kernel_width=1.0)
    np.testing.assert_allclose(wide.kernel(z), np.sqrt(np.exp(-(d**2))), rtol=1e-10)
    # LIME's explain uses this fit on its own samples and outputs
    img = textured_image(H, W)
    e = peephole.explain(RegionMeanModel(REGION), img, method="lime", n_samples=80, targets=1, masker="black")
    zs = e.partition.z
    ys = e.scores[:, [1]].astype(np.float64)
    d_s = 1 - zs.sum(1) / np.sqrt(np.maximum(zs.sum(1), 1) * zs.shape[1])
    w_s = np.sqrt(np.exp(-(d_s**2) / KERNEL_WIDTH**2))
    coef = Ridge(alpha=1.0).fit(zs.astype(float), ys[:, 0], sample_weight=w_s).coef_
    np.testing.assert_allclose(e.maps[0], e.partition.paint(coef[None])[0], rtol=1e-4, atol=1e-6)


def test_weigh_groups_averages_the_groups_maps_by_their_fits_r2():
    """Two segmentations of 8 features; the output needs both features of a pair (an AND). Group A's
    parts are those pairs (additive in A's parts: R² ≈ 1); group B splits them (an interaction: a worse
    fit). weigh_groups=True gives Σ_g R²_g M_g / Σ_g R²_g, with R²_g from scikit-learn's weighted
    r2_score on each group's own ridge fit, computed here independently."""

    from sklearn.linear_model import Ridge
    from sklearn.metrics import r2_score

    from peephole.methods.surrogate import grouped_samples

    a = np.array([0, 0, 1, 1, 2, 2, 3, 3])
    b = np.array([0, 1, 1, 2, 2, 3, 3, 0])
    parts = LabelPartition([a, b])
    z, row_groups = grouped_samples(parts, 80, lime_samples, seed=2)
    coal = Coalitions(parts, z, row_groups)
    keep = coal.masks(0, len(z))  # (n, 8): the kept features of each coalition
    y = (2.0 * (keep[:, 0] & keep[:, 1]) + 1.5 * (keep[:, 4] & keep[:, 5]))[:, None]
    maps, r2 = [], []
    for g, labels in enumerate((a, b)):
        rows, cols = row_groups == g, np.flatnonzero(parts.groups == g)
        zg = z[np.ix_(rows, cols)].astype(float)
        agg = LimeFit(coal, np.zeros(1))
        w = agg.kernel(zg.astype(bool))
        fit = Ridge(alpha=1.0).fit(zg, y[rows, 0], sample_weight=w)
        r2.append(max(r2_score(y[rows, 0], fit.predict(zg), sample_weight=w), 0.0))
        maps.append(fit.coef_[labels])
    assert r2[0] > 0.9 and r2[1] < r2[0] - 0.15  # ridge shrinks A's fit a little; B's misses the AND
    for weigh, expected in ((False, np.mean(maps, 0)), (True, (r2[0] * maps[0] + r2[1] * maps[1]) / sum(r2))):
        agg = LimeFit(coal, np.zeros(1), weigh_groups=weigh)
        agg.add(0, keep, y)
        np.testing.assert_allclose(agg.maps()[0], expected, rtol=1e-5, atol=1e-7)
    # a constant output: every R² is 0, the groups weigh equally (no division by zero)
    flat = LimeFit(coal, np.zeros(1), weigh_groups=True)
    flat.add(0, keep, np.ones_like(y))
    assert np.isfinite(flat.maps()).all()


def test_coalitions_that_each_keep_all_or_nothing_are_one_input_error():
    """Windows so large that any half of them covers the image: every LIME query is the input itself, and the fit
    used to paint a map of ±1e-31 from one distinct query. KernelSHAP on one part (a 3×1000 image's one SLIC segment)
    queries only the input and its empty version: the same error."""
    x = textured_image(96, 96)
    with pytest.raises(InputError, match="kept all or none of the input.*smaller parts"):
        peephole.explain(RegionMeanModel(REGION), x, method="lime", n_samples=30, partition="window", radius=40, stride=6)
    e = peephole.explain(RegionMeanModel(REGION), x, method="lime", n_samples=30, partition="window", radius=12, stride=16)
    assert np.isfinite(e.maps).all() and e.maps.std() > 0  # fewer, smaller windows: a map that varies
    thin = RegionMeanModel((slice(0, 3), slice(0, 500)))
    with (
        pytest.raises(InputError, match="each of the 2 coalitions of 1 parts kept all or none"),
        pytest.warns(UserWarning, match="one part"),
    ):
        peephole.explain(thin, np.random.default_rng(0).random((3, 1000, 3)), method="kernel-shap", n_samples=30)


def test_kernel_widths_at_the_ends_of_the_float_range():
    """kernel_width=1e300 overflowed squaring it (Python's OverflowError, after every query) though inf worked; a width
    so small that every varied coalition weighs 0 fitted nothing and painted zeros without a word."""
    x = textured_image(48, 64)
    options = {"method": "lime", "n_samples": 30, "partition": "window", "radius": 8, "stride": 10}
    huge = peephole.explain(RegionMeanModel(REGION), x, kernel_width=1e300, **options)
    infinite = peephole.explain(RegionMeanModel(REGION), x, kernel_width=float("inf"), **options)
    assert np.array_equal(huge.maps, infinite.maps) and huge.maps.std() > 0  # a flat kernel either way
    with pytest.raises(InputError, match="weight 0 .*kernel_width=1e-300.*use a larger kernel_width"):
        peephole.explain(RegionMeanModel(REGION), x, kernel_width=1e-300, **options)
