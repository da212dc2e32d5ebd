"""Every metric that reads a map checks it the same way (``peephole.metrics.maps.checked_map``): strings were a
ValueError from NumPy, complex maps were scored on their real part, and a NaN map gave µFidelity and Spearman's ρ
of NaN (and scikit-learn's ValueError in the mask AUC)."""

from __future__ import annotations

import numpy as np
import pytest

from peephole import metrics
from peephole.errors import InputError
from peephole.models.callable import CallableModel

IMG = np.random.default_rng(0).random((16, 16, 3)).astype(np.float32)
GOOD = np.random.default_rng(1).random((16, 16))
REGION = np.zeros((16, 16), bool)
REGION[2:6, 2:6] = True
MODEL = CallableModel(lambda b: np.stack([np.asarray(b).mean((1, 2, 3)), 1 - np.asarray(b).mean((1, 2, 3))], 1), "probs")

METRICS = {
    "insertion": lambda s: metrics.insertion(MODEL, IMG, s, 0),
    "deletion": lambda s: metrics.deletion(MODEL, IMG, s, 0),
    "mu_fidelity": lambda s: metrics.mu_fidelity(MODEL, IMG, s, 0, n_samples=5),
    "pointing_hit": lambda s: metrics.pointing_hit(s, REGION),
    "energy_pointing": lambda s: metrics.energy_pointing(s, REGION),
    "relevance_mass_accuracy": lambda s: metrics.relevance_mass_accuracy(s, REGION),
    "mask_auc": lambda s: metrics.mask_auc(s, REGION),
    "rank_correlation": lambda s: metrics.rank_correlation(s, GOOD),
}
BAD = {
    "strings": (np.full((16, 16), "a"), "must be an array of real numbers"),
    "complex": (GOOD + 1j, "complex numbers"),
    "NaN": (np.where(REGION, np.nan, GOOD), "contains NaN or inf"),
    "inf": (np.where(REGION, np.inf, GOOD), "contains NaN or inf"),
}


@pytest.mark.parametrize("bad", sorted(BAD))
@pytest.mark.parametrize("metric", sorted(METRICS))
def test_a_map_of_no_real_finite_numbers_is_one_input_error(metric, bad):
    saliency, message = BAD[bad]
    with pytest.raises(InputError, match=message):
        METRICS[metric](saliency)


@pytest.mark.parametrize("metric", sorted(METRICS))
def test_a_list_or_integer_map_is_read_as_its_numbers(metric):
    as_list, as_float = METRICS[metric](GOOD.tolist()), METRICS[metric](GOOD)
    assert repr(as_list) == repr(as_float)
    ints = (GOOD * 10).astype(int)
    assert repr(METRICS[metric](ints)) == repr(METRICS[metric](ints.astype(float)))


@pytest.mark.parametrize("fill", [np.zeros((16, 16, 3)), ["grey"], 3])
def test_a_fill_or_regions_that_is_no_name_is_one_input_error(fill):
    """An array fill raised NumPy's "truth value ... is ambiguous" (``fill == 'road'``), a list a TypeError."""
    with pytest.raises(InputError, match="unknown fill"):
        metrics.insertion(MODEL, IMG, GOOD, 0, fill=fill)
    with pytest.raises(InputError, match="unknown fill"):
        metrics.mu_fidelity(MODEL, IMG, GOOD, 0, fill=fill, n_samples=5)
    with pytest.raises(InputError, match="regions must be the name of a partition"):
        metrics.mu_fidelity(MODEL, IMG, GOOD, 0, regions=fill, n_samples=5)
