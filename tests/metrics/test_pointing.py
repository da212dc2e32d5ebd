"""Pointing game: hits and misses exactly at the 15 px boundary, ties (the share of maximal pixels that hit),
per-class means."""

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
    assert pointing_hit(peak(r, c), boxes_mask([BOX], SHAPE)) == float(hit)


def test_ties_count_the_share_of_maximal_pixels_that_hit_wherever_the_first_one_lies():
    region = boxes_mask([BOX], SHAPE)
    m = np.zeros(SHAPE)
    m[10, 10] = m[60, 110] = 1.0  # one maximal pixel outside (first in row-major order), one inside
    assert pointing_hit(m, region) == 0.5
    m[10, 10], m[190, 190] = 0.0, 1.0  # the inside one first now: the same share
    assert pointing_hit(m, region) == 0.5
    part = np.zeros(SHAPE)
    part[40:80, 90:130] = 1.0  # a flat part of 40×40 px around the 20×20 box: a quarter inside, its corner outside
    assert pointing_hit(part, region, tolerance=0) == pytest.approx(0.25)
    assert pointing_hit(np.ones(SHAPE), region, tolerance=0) == pytest.approx(400 / 40_000)  # constant: the box's area


def test_tolerance_applies_to_every_maximal_pixel():
    region = boxes_mask([BOX], SHAPE)
    m = np.zeros(SHAPE)
    m[60, 134] = m[60, 135] = m[60, 136] = m[60, 137] = 1.0  # 15, 16, 17, 18 px right of the box
    assert pointing_hit(m, region) == 0.25


def test_summary_reports_overall_and_mean_over_classes():
    s = pointing_summary([("cat", 1.0), ("cat", 1.0), ("cat", 1.0), ("dog", 0.0)])
    assert s.overall == pytest.approx(0.75)
    assert s.mean_over_classes == pytest.approx(0.5)
    assert s.per_class == {"cat": (3, 3), "dog": (0, 1)} and s.n_trials == 4
    shared = pointing_summary([("cat", 0.5), ("dog", 0.25), ("dog", 1.0)])  # tied hits count as their share
    assert shared.overall == pytest.approx(1.75 / 3) and shared.mean_over_classes == pytest.approx((0.5 + 0.625) / 2)


def test_empty_or_mismatched_regions_are_errors():
    with pytest.raises(InputError, match="empty"):
        pointing_hit(peak(1, 1), np.zeros(SHAPE, bool))
    with pytest.raises(InputError, match="does not match"):
        pointing_hit(peak(1, 1), np.ones((5, 5), bool))
