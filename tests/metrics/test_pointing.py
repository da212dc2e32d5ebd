"""Pointing game: hits and misses exactly at the 15 px boundary, ties, per-class means."""

from __future__ import annotations

import numpy as np
import pytest

from peephole.errors import InputError
from peephole.metrics import boxes_mask, pointing_hit, pointing_summary

SHAPE = (200, 200)
BOX = (100, 50, 120, 70)  # x0, y0, x1, y1: columns 100..119, rows 50..69


def peak(r: int, c: int) -> np.ndarray:
    m = np.zeros(SHAPE)
    m[r, c] = 1.0
    return m


def test_boxes_cover_the_pixels_whose_centres_they_contain():
    m = boxes_mask([BOX], SHAPE)
    rows, cols = np.nonzero(m)
    assert (rows.min(), rows.max(), cols.min(), cols.max()) == (50, 69, 100, 119)
    assert np.argwhere(boxes_mask([(0.6, 0.4, 2.6, 1.4)], (3, 3))).tolist() == [[0, 1], [0, 2]]  # centres (1.5|2.5, 0.5)
    union = boxes_mask([(0, 0, 2, 2), (1, 1, 3, 3)], (4, 4))
    assert union.sum() == 7


@pytest.mark.parametrize(
    ("r", "c", "hit"),
    [
        (60, 134, True),  # 15 px right of column 119
        (60, 135, False),  # 16 px
        (35, 110, True),  # 15 px above row 50
        (34, 110, False),
        (79, 130, True),  # diagonal: sqrt(10² + 11²) = 14.9
        (80, 130, False),  # sqrt(11² + 11²) = 15.6
        (60, 110, True),  # inside
    ],
)
def test_hit_and_miss_at_the_15_px_boundary(r, c, hit):
    assert pointing_hit(peak(r, c), boxes_mask([BOX], SHAPE)) is hit


def test_ties_at_the_maximum_take_the_first_pixel_in_row_major_order():
    region = boxes_mask([BOX], SHAPE)
    m = np.zeros(SHAPE)
    m[10, 10] = m[60, 110] = 1.0  # outside first, inside second
    assert not pointing_hit(m, region)
    m[10, 10] = 0.0
    m[190, 190] = 1.0  # inside first now
    assert pointing_hit(m, region)


def test_summary_reports_overall_and_mean_over_classes():
    s = pointing_summary([("cat", True), ("cat", True), ("cat", True), ("dog", False)])
    assert s.overall == pytest.approx(0.75)
    assert s.mean_over_classes == pytest.approx(0.5)
    assert s.per_class == {"cat": (3, 3), "dog": (0, 1)} and s.n_trials == 4


def test_empty_or_mismatched_regions_are_errors():
    with pytest.raises(InputError, match="empty"):
        pointing_hit(peak(1, 1), np.zeros(SHAPE, bool))
    with pytest.raises(InputError, match="does not match"):
        pointing_hit(peak(1, 1), np.ones((5, 5), bool))


def test_energy_in_is_the_positive_mass_inside_the_region() -> None:
    from peephole.metrics import energy_in

    m = np.zeros((4, 4))
    m[0, 0], m[3, 3], m[1, 1] = 3.0, 1.0, -5.0  # negative values carry no energy
    region = np.zeros((4, 4), bool)
    region[:2, :2] = True
    assert energy_in(m, region) == 0.75
    assert energy_in(-np.ones((4, 4)), region) == 0.0
