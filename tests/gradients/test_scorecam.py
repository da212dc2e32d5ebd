"""Score-CAM on a tiny torch model whose class-1 evidence lies only in a known region."""

from __future__ import annotations

import numpy as np
import pytest

torch = pytest.importorskip("torch")

from gradients_fixtures import H, Tiny, W, far_from_region, image  # noqa: E402

import peephole  # noqa: E402
from peephole.result import Explanation  # noqa: E402


def test_scorecam_puts_its_map_on_the_region_the_model_sees():
    e = peephole.explain(Tiny(), image(), method="scorecam", targets=1)
    assert isinstance(e, Explanation) and e.maps.shape == (1, H, W) and e.method == "scorecam"
    m = e.maps[0]
    assert np.isfinite(m).all() and m.max() > 0
    r, c = np.unravel_index(np.argmax(m), m.shape)
    assert not far_from_region()[r, c]
    assert np.all(m[far_from_region()] < 1e-6 * m.max() + 1e-12)


def test_a_batch_of_one_gives_the_same_map():
    """batch_size=1 made the first batch the all-hidden query alone, and upsampling no channel raised NumPy's
    "need at least one array to stack" (found by a seeded fuzz run)."""
    one = peephole.explain(Tiny(), image(), method="scorecam", targets=1, batch_size=1)
    many = peephole.explain(Tiny(), image(), method="scorecam", targets=1, batch_size=16)
    np.testing.assert_allclose(one.maps, many.maps, rtol=1e-4, atol=1e-6)  # float32 sums over other batch shapes
