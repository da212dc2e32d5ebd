"""Relevance mass accuracy and mask ROC AUC against a known feature mask."""

import numpy as np
import pytest

from peephole.errors import InputError
from peephole.metrics.ground_truth import mask_auc, relevance_mass_accuracy


def _mask() -> np.ndarray:
    m = np.zeros((32, 32), bool)
    m[4:10, 6:12] = True
    return m


def test_an_oracle_map_scores_one_on_both() -> None:
    m = _mask()
    assert relevance_mass_accuracy(m.astype(float), m) == 1.0
    assert mask_auc(m.astype(float), m) == 1.0


def test_random_maps_score_chance_auc_and_the_mask_share_of_mass() -> None:
    m = _mask()
    rng = np.random.default_rng(0)
    maps = rng.random((40, 32, 32))
    assert np.mean([mask_auc(s, m) for s in maps]) == pytest.approx(0.5, abs=0.03)
    assert np.mean([relevance_mass_accuracy(s, m) for s in maps]) == pytest.approx(m.mean(), abs=0.01)


def test_hand_computed_values() -> None:
    m = np.array([[True, False], [False, False]])
    s = np.array([[2.0, 1.0], [-3.0, 1.0]])  # positive mass 4, of which 2 inside
    assert relevance_mass_accuracy(s, m) == 0.5
    assert mask_auc(s, m) == 1.0
    assert mask_auc(-s, m) == 0.0
    assert np.isnan(relevance_mass_accuracy(-np.ones((2, 2)), m))  # no positive mass


def test_shape_mismatch_and_empty_masks_are_input_errors() -> None:
    with pytest.raises(InputError, match="cannot be scored"):
        mask_auc(np.zeros((3, 3)), _mask())
    with pytest.raises(InputError, match="must mark some pixels"):
        relevance_mass_accuracy(np.zeros((4, 4)), np.zeros((4, 4), bool))
