"""RISE on the engine: seeded soft masks, the N·p normalisation, and a known region of a synthetic black box."""

from __future__ import annotations

import numpy as np
import pytest
from conftest import RegionMeanModel, RegionModel, mass_inside, textured_image

import peephole
from peephole.errors import InputError
from peephole.methods.rise import rise_masks

H, W = 48, 64
REGION = (slice(8, 24), slice(36, 56))


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

    e = peephole.explain(const, textured_image(H, W), method="rise", n_masks=400, p=0.25, targets=1, output="probs")
    assert e.maps[0].mean() == pytest.approx(0.7, abs=0.05)
    assert e.n_queries == 401  # 400 masks + the unperturbed image


def test_rise_finds_the_region_and_is_reproducible():
    e = peephole.explain(RegionMeanModel(REGION), WHITE, method="rise", n_masks=600, targets=1, batch_size=50, masker="black")
    inside, outside = mass_inside(e.maps[0], REGION)
    assert inside > 2 * outside
    again = peephole.explain(RegionMeanModel(REGION), WHITE, method="rise", n_masks=600, targets=1, batch_size=7, masker="black")
    np.testing.assert_allclose(again.maps, e.maps, rtol=1e-5, atol=1e-7)


def test_centred_rise_leaves_the_masks_coverage_out_of_the_map(tmp_path):
    """Eq. 6 paints a constant model's map with where the masks happened to keep pixels (its order follows the
    coverage); centred, the same queries give a zero map, and on a model that reads a region the centred map ranks
    the region first, equals Eq. 6 less the mean output times the coverage, and survives a save."""

    def const(batch):
        return np.tile([0.3, 0.7], (len(batch), 1))

    x, common = textured_image(H, W), {"n_masks": 300, "targets": 1, "output": "probs", "seed": 4}
    plain = peephole.explain(const, x, method="rise", **common).maps[0]
    coverage = rise_masks((H, W), 0, 300, seed=4).sum(axis=0)
    assert np.corrcoef(plain.ravel(), coverage.ravel())[0, 1] > 0.999 and plain.std() > 0.01
    centred = peephole.explain(const, x, method="rise", centre=True, **common)
    np.testing.assert_allclose(centred.maps[0], 0, atol=1e-6)
    assert centred.params["centre"] is True

    model = RegionMeanModel(REGION)
    e = peephole.explain(model, WHITE, method="rise", masker="black", n_masks=300, targets=1, seed=4, batch_size=32)
    c = peephole.explain(model, WHITE, method="rise", masker="black", n_masks=300, targets=1, seed=4, batch_size=7, centre=True)
    inside, outside = mass_inside(c.maps[0], REGION)
    assert inside > 2 * outside
    scores = model(WHITE[None] * rise_masks((H, W), 0, 300, seed=4)[..., None])[:, 1]
    want = e.maps[0] - scores.mean() * rise_masks((H, W), 0, 300, seed=4).sum(axis=0) / (300 * 0.5)
    np.testing.assert_allclose(c.maps[0], want, atol=1e-5)
    np.testing.assert_allclose(c.map_for(0), -c.maps[0], atol=1e-5)  # class 0 = 1 − class 1: the map rebuilt, centred
    c.save(tmp_path / "c.npz")
    np.testing.assert_allclose(peephole.load(tmp_path / "c.npz").map_for(0), -c.maps[0], atol=1e-5)


def test_bad_rise_settings_are_errors():
    with pytest.raises(InputError):
        peephole.explain(RegionModel(REGION), textured_image(H, W), method="rise", n_masks=0)
    side = max(H, W)
    for cells in (side + 1, 2**40):  # 2**40 asked NumPy for a 2**80-cell grid ("array is too big"), found by a fuzz seed
        with pytest.raises(InputError, match=f"cells={cells} is finer than the {H}×{W} input's pixels; use cells <= {side}"):
            peephole.explain(RegionModel(REGION), textured_image(H, W), method="rise", n_masks=2, cells=cells)
    finest = peephole.explain(RegionModel(REGION), textured_image(H, W), method="rise", n_masks=2, cells=side)
    assert finest.maps.shape[1:] == (H, W)
