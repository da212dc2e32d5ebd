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


def test_bad_rise_settings_are_errors():
    with pytest.raises(InputError):
        peephole.explain(RegionModel(REGION), textured_image(H, W), method="rise", n_masks=0)
