"""Overlays share one scale across targets by default and carry a colour bar (each panel used to be scaled
to its own range, so a class at p = 0.00 showed as much red as the top class)."""

from __future__ import annotations

import base64
import io

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


def test_many_maps_wrap_into_rows_of_at_most_six_panels():
    """60 boxes of a detector (or a large top_k) made one row 196 inches wide; now rows of six panels."""
    img = np.random.default_rng(0).random((24, 32, 3)).astype(np.float32)
    boxes = np.array([[i % 20, 2, i % 20 + 8, 10] for i in range(13)], float)

    def detector(batch):
        return [{"boxes": boxes, "scores": np.full(13, float(x[:, :16].mean())), "labels": np.zeros(13, int)} for x in batch]

    e = peephole.explain(detector, img, "rise", n_masks=4, task="detection")
    fig = e.figure()
    panels = [ax for ax in fig.axes if ax.get_ylabel() != "importance (shared scale)"]
    shown = [ax for ax in panels if ax.images]
    rows = {ax.get_subplotspec().rowspan.start for ax in shown}
    assert len(shown) == 14 and len(rows) == 3  # the input and 13 maps: 6 + 6 + 2
    assert [ax.get_title() for ax in shown[1:]] == [f"class 0 {i} ({e.probabilities[i]:.2f})" for i in range(13)]
    assert tuple(fig.get_size_inches()) == pytest.approx((3.2 * 6 + 0.6, 3.4 * 3))
    assert tuple(two_class_explanation().figure().get_size_inches()) == pytest.approx((3.2 * 3 + 0.6, 3.4))  # one row


def test_a_figure_draws_at_most_35_maps_and_counts_the_rest():
    """2,000 boxes of a detector made a figure 113,000 pixels tall (50 s, about 900 MB of canvas), and so did the
    notebook view: unless told which (``targets=``), a figure draws the first 35 maps and its title counts the rest;
    ``figure(targets=...)`` draws any of them, with its box."""
    from peephole.modalities.display import FIGURE_MAPS

    img = np.random.default_rng(0).random((24, 32, 3)).astype(np.float32)
    boxes = np.array([[i % 20, 2, i % 20 + 8, 10] for i in range(50)], float)

    def detector(batch):
        return [{"boxes": boxes, "scores": np.full(50, float(x[:, :16].mean())), "labels": np.zeros(50, int)} for x in batch]

    e = peephole.explain(detector, img, "rise", n_masks=4, task="detection")
    assert len(e.targets) == 50 and FIGURE_MAPS == 35
    fig = e.figure()
    shown = [ax for ax in fig.axes if ax.images]
    assert len(shown) == 36 and fig.get_suptitle().startswith("the first 35 of 50 targets' maps")
    assert tuple(fig.get_size_inches()) == pytest.approx((3.2 * 6 + 0.6, 3.4 * 6))
    one = e.figure(targets=[49])
    assert [ax.get_title() for ax in one.axes if ax.images][1:] == [f"class 0 49 ({e.probabilities[49]:.2f})"]
    assert one.get_suptitle() == "" and len(one.axes[1].patches) == 1  # its box, not the first target's
    assert one.axes[1].patches[0].get_x() == pytest.approx(boxes[49][0] - 0.5)
    html = e._repr_html_()  # the notebook view draws the same capped figure
    assert html.count("<img") == 1
    data = base64.b64decode(html.split("base64,")[1].split('"')[0])
    assert Image.open(io.BytesIO(data)).size[1] < 3.4 * 7 * 100  # six rows of panels (seven with the title), not nine
