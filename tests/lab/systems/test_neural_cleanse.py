"""Neural Cleanse (Wang et al., S&P 2019) on the clean / BadNets MNIST CNNs of the systems tests."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from systems_fixtures import TARGET, TRIGGER, clean_cnn, generic_pool, single_thread, trojaned_cnn  # noqa: F401

from peephole.errors import InputError
from peephole_lab.systems.neural_cleanse import mad_anomaly, neural_cleanse

pytestmark = pytest.mark.usefixtures("single_thread")


def test_shipped_defaults_flag_the_trojan_and_not_its_clean_twin():
    troj = neural_cleanse(trojaned_cnn())
    assert troj.flagged == [TARGET], troj.table()
    l1 = troj.measures["mask_l1"]
    assert l1.argmin() == TARGET and troj.measures["attack_success"][TARGET] >= 0.99
    # the reversed trigger lies on the real one: most of the target mask's mass is inside the 4×4 patch
    mask = troj.extras["masks"][TARGET]
    assert mask[TRIGGER.mask(28, 28)].sum() > 0.5 * mask.sum()
    assert troj.extras["patterns"].shape == (10, 1, 28, 28)
    clean = neural_cleanse(clean_cnn())
    assert clean.flagged == [], clean.table()


def test_same_seed_same_masks_and_bad_input():
    a = neural_cleanse(trojaned_cnn(), generic_pool()[:100], classes=[0, 1, TARGET], epochs=2, steps=2)
    b = neural_cleanse(trojaned_cnn(), generic_pool()[:100], classes=[0, 1, TARGET], epochs=2, steps=2)
    np.testing.assert_array_equal(a.extras["masks"], b.extras["masks"])
    assert a.targets == [0, 1, TARGET] and a.method == "neural-cleanse"
    with pytest.raises(InputError, match="at least 3 classes"):
        neural_cleanse(trojaned_cnn(), classes=[0, 1])
    with pytest.raises(InputError, match="shape"):
        neural_cleanse(trojaned_cnn(), np.zeros((4, 1, 8, 8), np.float32))
    with pytest.raises(InputError, match="epochs"):
        neural_cleanse(trojaned_cnn(), epochs=0)
    with pytest.raises(InputError, match="needs gradients"):
        neural_cleanse(lambda x: x)
    assert torch.get_num_threads() == 1


def test_anomaly_index_counts_only_small_masks():
    a = mad_anomaly(np.array([100.0, 96.0, 104.0, 98.0, 102.0, 20.0, 400.0]))
    assert a.argmax() == 5 and a[5] > 2 and a[6] < -2  # a huge mask is an outlier too, but not a trigger
