"""The backdoor scan (input-agnostic saliency, Akhtar & Jalwana, AAAI 2023) on clean / BadNets MNIST CNNs."""

from __future__ import annotations

import numpy as np
import pytest
from systems_fixtures import TARGET, clean_cnn, generic_pool, single_thread, trojaned_cnn  # noqa: F401

from peephole_lab.data import stamp
from peephole_lab.data.classifiers import accuracy
from peephole_lab.systems.backdoor import anomaly_scores, concentration, detect_backdoor

FAST = {"n_iter": 30, "batch_size": 32, "fidelity_samples": 200}

pytestmark = pytest.mark.usefixtures("single_thread")


def test_the_trojan_works_and_the_clean_model_ignores_the_trigger():
    x = stamp(generic_pool()[:200])
    assert accuracy(trojaned_cnn(), x, np.full(len(x), TARGET)) > 0.9
    assert accuracy(clean_cnn(), x, np.full(len(x), TARGET)) < 0.3


def test_backdoor_scan_flags_the_target_class_only_on_the_trojaned_model():
    opts = {**FAST, "n_iter": 20, "distribution": generic_pool(), "class_names": [str(i) for i in range(10)]}
    troj = detect_backdoor(trojaned_cnn(), **opts)
    assert troj.flagged == [TARGET], troj.table()
    assert int(np.argmax(troj.anomaly)) == TARGET and troj.anomaly[TARGET] > 5
    assert troj.measures["concentration"].shape == troj.measures["fidelity"].shape == (10,)
    assert "* " in troj.table() and "7" in troj.table()
    clean = detect_backdoor(clean_cnn(), **opts)
    assert clean.flagged == [], clean.table()


def test_concentration_and_anomaly_scores_by_hand():
    spread = np.ones((2, 10, 10))
    peak = np.zeros((10, 10))
    peak[2:4, 5:7] = 1.0
    c = concentration(np.concatenate([spread, peak[None]]), window=2)
    np.testing.assert_allclose(c, [0.04, 0.04, 1.0])
    a = anomaly_scores(np.array([0.1, 0.1, 0.12, 0.08, 0.9]))
    assert a.argmax() == 4 and a[4] > 3 > a[:4].max()


def test_shipped_defaults_flag_the_trojan_and_not_its_clean_twin():
    """``detect_backdoor(model)`` as a user calls it: generic MNIST images are the default for 1×28×28 models."""
    troj = detect_backdoor(trojaned_cnn())
    assert troj.flagged == [TARGET], troj.table()
    assert troj.explanation.params["distribution"] == "mnist"
    clean = detect_backdoor(clean_cnn())
    assert clean.flagged == [], clean.table()
    assert troj.score() > clean.score()


def test_noise_samples_warn_how_unreliable_they_measured():
    with pytest.warns(UserWarning, match="held-out half of the trojan zoo"):
        r = detect_backdoor(clean_cnn(), distribution="uniform", classes=[0, 1, 2], **{**FAST, "n_iter": 2})
    assert r.explanation.params["distribution"] == "uniform"


def test_a_figure_shows_the_maps_or_else_the_restored_triggers():
    from peephole_lab.systems.backdoor import BackdoorReport

    masks = np.zeros((3, 4, 4))
    masks[2, :2, :2] = 1.0
    patterns = np.stack([np.full((2, 4, 4), 0.5), np.full((2, 4, 4), 0.5), np.stack([np.ones((4, 4)), np.zeros((4, 4))])])
    r = BackdoorReport("tabor", [0, 1, 2], np.zeros(3), np.ones(3, bool), 2.0, extras={"masks": masks, "patterns": patterns})
    imgs = r.figure_images()  # mask · pattern, channels averaged
    assert len(imgs) == 3 and imgs[2].shape == (4, 4) and imgs[2][0, 0] == 0.5 and imgs[2][3, 3] == 0 and not imgs[0].any()
