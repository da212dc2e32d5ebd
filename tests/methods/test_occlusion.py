"""Occlusion on the engine: hiding windows finds a known region of a synthetic black box."""

from __future__ import annotations

import numpy as np
from conftest import RegionModel, mass_inside, textured_image

import peephole
from peephole.modalities.image.windows import SlidingWindows

H, W = 48, 64
REGION = (slice(8, 24), slice(36, 56))


def test_occlusion_hides_windows_and_is_zero_where_no_window_touches_the_region():
    model = RegionModel(REGION)
    e = peephole.explain(model, textured_image(H, W), method="occlusion", radius=5, stride=3, targets=1)
    m = e.maps[0]
    inside, outside = mass_inside(m, REGION)
    assert inside > 3 * outside
    # a pixel whose covering windows (radius 5) all miss the region: hiding them changes nothing
    assert m[40, 5] == 0.0 and m[45, 10] == 0.0
    assert e.n_queries == SlidingWindows(H, W, radius=5, stride=3).n_parts + 1
    assert np.unravel_index(np.argmax(m), m.shape)[0] in range(8, 24)
