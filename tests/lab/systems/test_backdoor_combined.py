"""The combined scan (input-agnostic + Neural Cleanse, logistic weights fitted on the wide zoo) on the clean / BadNets
MNIST CNNs of the systems tests."""

from __future__ import annotations

import numpy as np
import pytest
from systems_fixtures import TARGET, clean_cnn, single_thread, trojaned_cnn  # noqa: F401

from peephole.errors import InputError
from peephole_lab.systems.backdoor_calibration import class_features
from peephole_lab.systems.backdoor_combined import WEIGHTS, combined_scan

pytestmark = pytest.mark.usefixtures("single_thread")


def test_shipped_weights_flag_the_trojan_and_not_its_clean_twin():
    troj = combined_scan(trojaned_cnn())
    assert troj.method == "combined" and troj.flagged == [TARGET], troj.table()
    # the log-odds are the shipped regression over both detectors' anomalies and ranks
    f = class_features(troj.measures["input_agnostic"], troj.measures["neural_cleanse"])
    x = np.column_stack([f["first"], f["second"], f["first_rank"], f["second_rank"]])
    np.testing.assert_allclose(troj.anomaly, x @ np.asarray(WEIGHTS[0]) + WEIGHTS[1])
    assert troj.explanation is not None and troj.extras["masks"].shape == (10, 28, 28)
    clean = combined_scan(clean_cnn())
    assert clean.flagged == [], clean.table()


def test_weights_are_checked():
    with pytest.raises(InputError, match="4 coefficients"):
        combined_scan(trojaned_cnn(), weights=((1.0, 2.0), 0.0))
