"""Eq. 1 of the PAMI paper, checked against hand-computed maps."""

import numpy as np
import pytest

from peephole.core import (
    Complement,
    DropAggregator,
    Eq1Aggregator,
    MaskPartition,
    Query,
    WeightedSumAggregator,
    aggregate,
    run,
)
from peephole.modalities.image.maskers import ConstantMasker

# A 2×3 image whose class-0 probability is its mean pixel value (class 1: one minus it).
X = np.array([[0.6, 0.0, 0.3], [0.6, 0.0, 0.3]], dtype=np.float32)[..., None]


def mean_model(batch):
    m = np.asarray(batch).reshape(len(batch), -1).mean(axis=1)
    return np.stack([m, 1 - m], axis=1)


def overlapping_parts():
    keep_left = np.array([[1, 1, 0], [1, 1, 0]], bool)  # keeps columns 0, 1
    keep_right = np.array([[0, 1, 1], [0, 1, 1]], bool)  # keeps columns 1, 2
    return MaskPartition(np.stack([keep_left, keep_right]))


def test_eq1_matches_hand_computed_map():
    # f(x_left) = (0.6+0+0.6+0)/6 = 0.2, f(x_right) = (0+0.3+0+0.3)/6 = 0.1 (black elsewhere).
    # Column 1 is covered by both parts (N=2): (0.2+0.1)/2 = 0.15.
    res = run(Query(mean_model), X, overlapping_parts(), ConstantMasker("black"), targets=[0, 1], batch_size=1)
    expected0 = np.array([[0.2, 0.15, 0.1], [0.2, 0.15, 0.1]])
    np.testing.assert_allclose(res.maps[0], expected0, atol=1e-6)
    np.testing.assert_allclose(res.maps[1], 1 - expected0, atol=1e-6)
    np.testing.assert_allclose(res.scores[:, 0], [0.2, 0.1], atol=1e-6)
    assert res.n_queries == 2


def test_groups_are_averaged_with_equal_weight():
    # Group 0: the two overlapping parts above; group 1: one part keeping everything (f = mean(X) = 0.3).
    masks = np.concatenate([overlapping_parts().masks(0, 2), np.ones((1, 2, 3), bool)])
    part = MaskPartition(masks, groups=np.array([0, 0, 1]))
    res = run(Query(mean_model), X, part, ConstantMasker("black"), targets=[0], batch_size=2)
    expected = (np.array([0.2, 0.15, 0.1]) + 0.3) / 2
    np.testing.assert_allclose(res.maps[0], np.tile(expected, (2, 1)), atol=1e-6)


def test_uncovered_features_get_zero():
    part = MaskPartition(np.array([[True, False, False]]))
    agg = Eq1Aggregator(part, reference=np.zeros(1))
    agg.add(0, part.masks(0, 1), np.array([[0.7]]))
    np.testing.assert_allclose(agg.maps()[0], [0.7, 0.0, 0.0])


def test_batch_size_does_not_change_the_map():
    rng = np.random.default_rng(1)
    part = MaskPartition(rng.random((9, 4, 5)) > 0.5)
    x = rng.random((4, 5, 1)).astype(np.float32)
    maps = [run(Query(mean_model), x, part, ConstantMasker("white"), [0, 1], bs).maps for bs in (1, 4, 9)]
    np.testing.assert_allclose(maps[0], maps[1], atol=1e-6)
    np.testing.assert_allclose(maps[0], maps[2], atol=1e-6)


def test_reaggregation_from_scores_needs_no_query():
    q = Query(mean_model)
    res = run(q, X, overlapping_parts(), ConstantMasker("black"), targets=[0], batch_size=2)
    n = q.n_queries
    again = aggregate(overlapping_parts(), res.scores[:, [1]])
    assert q.n_queries == n
    np.testing.assert_allclose(again[0], 1 - res.maps[0], atol=1e-6)


def test_bad_batch_size():
    with pytest.raises(ValueError, match="batch_size"):
        run(Query(mean_model), X, overlapping_parts(), ConstantMasker(), [0], batch_size=0)


# --- RISE's weighted sum and occlusion's drop, on a 4-feature partition -----------------------------

# Two overlapping parts over 4 features; feature 3 is in neither.
PARTS = np.array([[1, 1, 0, 0], [0, 1, 1, 0]], bool)


def test_weighted_sum_matches_hand_computed_map():
    part = MaskPartition(PARTS)
    scores = np.array([[0.2, 0.8], [0.6, 0.4]])  # (queries, targets)
    agg = WeightedSumAggregator(part, reference=np.zeros(2), norm=2.0)
    agg.add(0, part.masks(0, 2), scores)
    # Σ_i f_k(x_i)·m_i / norm, feature by feature: no division by coverage (unlike Eq. 1).
    np.testing.assert_allclose(agg.maps()[0], [0.1, 0.4, 0.3, 0.0], atol=1e-6)
    np.testing.assert_allclose(agg.maps()[1], [0.4, 0.6, 0.2, 0.0], atol=1e-6)
    assert agg.params == {"norm": 2.0}
    # The same from stored scores, fed one query at a time (aggregate rebuilds it from its params).
    again = aggregate(part, scores, aggregator=WeightedSumAggregator, params={"norm": 2.0}, batch_size=1)
    np.testing.assert_allclose(again, agg.maps(), atol=1e-6)


def test_weighted_sum_takes_soft_masks():
    soft = np.array([[0.5, 1.0, 0.0], [0.25, 0.0, 1.0]], np.float32)
    agg = WeightedSumAggregator(MaskPartition(np.ones((2, 3), bool)), reference=np.zeros(1))
    agg.add(0, soft, np.array([[0.4], [0.8]]))
    np.testing.assert_allclose(agg.maps()[0], [0.4, 0.4, 0.8], atol=1e-6)  # norm defaults to 1


def test_drop_matches_hand_computed_map():
    # Occlusion: query j keeps everything but part j, so the features of part j are the hidden ones.
    part = Complement(MaskPartition(PARTS))
    reference = np.array([0.9, 0.1])  # f_k(x) of the two targets
    scores = np.array([[0.5, 0.3], [0.7, 0.2]])  # f_k(x_j) with part j hidden
    agg = DropAggregator(part, reference)
    agg.add(0, part.masks(0, 1), scores[:1])
    agg.add(1, part.masks(1, 2), scores[1:])
    # Drops: target 0: 0.4 (query 0), 0.2 (query 1); target 1: -0.2, -0.1. Feature 1 is hidden by both
    # (mean of the two drops); feature 3 by none (0).
    np.testing.assert_allclose(agg.maps()[0], [0.4, 0.3, 0.2, 0.0], atol=1e-6)
    np.testing.assert_allclose(agg.maps()[1], [-0.2, -0.15, -0.1, 0.0], atol=1e-6)
    again = aggregate(part, scores, reference, aggregator=DropAggregator)
    np.testing.assert_allclose(again, agg.maps(), atol=1e-6)
