"""Overlays share one scale across targets by default and carry a colour bar (each panel used to be scaled
to its own range, so a class at p = 0.00 showed as much red as the top class)."""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image

import peephole


def two_class_explanation():
    """Class 0 depends on the left half (p ≈ 1); class 1 is ≈ 0 everywhere with a tiny bump."""
    img = np.full((24, 24, 3), 0.5, np.float32)
    img[:, :12] = 1.0

    def model(b):
        left = b[:, :, :12].mean(axis=(1, 2, 3))
        return np.stack([left, 1e-3 * left], axis=1)

    return peephole.explain(
        model, img, "pami", partition="window", radius=4, stride=4, targets=[0, 1], output="probs", masker="black"
    )


def redness(rgb: np.ndarray) -> float:
    return float((rgb[..., 0].astype(int) - rgb[..., 2].astype(int)).max())


def test_a_near_zero_class_is_not_drawn_as_hot_as_the_top_class():
    e = two_class_explanation()
    assert e.probabilities[1] < 0.01
    shared_top, shared_low = e.overlay(0), e.overlay(1)
    own_low = e.overlay(1, scale="own")
    assert redness(shared_top) > 100
    assert redness(shared_low) < 0.3 * redness(shared_top)
    assert redness(own_low) > 100  # what every panel used to look like
    with pytest.raises(ValueError, match="scale"):
        e.overlay(0, scale="loudest")


def test_figures_and_written_overlays_carry_a_colour_bar(tmp_path):
    e = two_class_explanation()
    fig = e.figure()
    labels = [ax.get_ylabel() for ax in fig.axes]
    assert len(fig.axes) == 4 and "importance (shared scale)" in labels  # input, 2 overlays, 1 shared bar
    assert len(e.figure(scale="own").axes) == 5  # a bar per panel
    paths = e.write(tmp_path, "two")
    png = Image.open([p for p in paths if p.suffix == ".png"][0])
    assert png.size[0] > png.size[1]  # the bar sits beside the square overlay
