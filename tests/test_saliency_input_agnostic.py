"""Input-agnostic saliency (Akhtar & Jalwana, AAAI 2023) and the backdoor scan on clean / BadNets MNIST CNNs."""

from __future__ import annotations

import copy

import numpy as np
import pytest
import torch
from systems_fixtures import TARGET, TRIGGER, clean_cnn, generic_pool, single_thread, trojaned_cnn  # noqa: F401

import peephole
from peephole.data import stamp
from peephole.data.classifiers import accuracy
from peephole.errors import InputError
from peephole.methods.backdoor import anomaly_scores, concentration, detect_backdoor
from peephole.methods.input_agnostic import input_agnostic, project

FAST = {"n_iter": 30, "batch_size": 32, "fidelity_samples": 200}

pytestmark = pytest.mark.usefixtures("single_thread")


def trigger_share(maps: np.ndarray) -> np.ndarray:
    m = TRIGGER.mask(*maps.shape[-2:])
    return (maps * m).sum((-2, -1)) / maps.sum((-2, -1))


def test_the_trojan_works_and_the_clean_model_ignores_the_trigger():
    x = stamp(generic_pool()[:200])
    assert accuracy(trojaned_cnn(), x, np.full(len(x), TARGET)) > 0.9
    assert accuracy(clean_cnn(), x, np.full(len(x), TARGET)) < 0.3


def test_trojaned_target_map_concentrates_on_the_trigger():
    opts = {**FAST, "distribution": generic_pool()}
    troj = input_agnostic(trojaned_cnn(), targets=TARGET, **opts)
    clean = input_agnostic(clean_cnn(), targets=TARGET, **opts)
    s_troj, s_clean = trigger_share(troj.maps)[0], trigger_share(clean.maps)[0]
    # the trigger is 16 of 784 pixels (2%): the trojaned map puts > 10× that share of its mass there
    assert s_troj > 0.2, s_troj
    assert s_troj > 5 * s_clean, (s_troj, s_clean)
    assert troj.fidelity[0] > 0.9 > clean.fidelity[0]
    assert troj.method == "input-agnostic" and troj.maps.shape == (1, 28, 28)
    assert troj.overlay().shape == (28, 28, 3)


@pytest.mark.parametrize("norm", ["l2", "linf"])
def test_projection_keeps_rho_in_the_eta_ball(norm):
    eta = 1.5 if norm == "l2" else 0.05
    e = input_agnostic(clean_cnn(), targets=[0, 1], eta=eta, norm=norm, n_iter=10, step=eta, refine_levels=None)
    for rho in e.perturbations:
        size = np.linalg.norm(rho) if norm == "l2" else np.abs(rho).max()
        assert size <= eta * (1 + 1e-5)
        assert size > 0.5 * eta  # a large step reaches the boundary: the projection is what holds it
    r = torch.full((1, 4, 4), 2.0)
    assert float(project(r, 1.0, "l2").norm()) == pytest.approx(1.0)
    assert float(project(r, 1.0, "linf").abs().max()) == 1.0


def test_maps_differ_between_classes():
    e = input_agnostic(clean_cnn(), targets=[0, 1, 3, 7], **FAST)
    flat = e.maps.reshape(len(e.targets), -1)
    corr = np.corrcoef(flat)[np.triu_indices(len(flat), 1)]
    assert corr.max() < 0.8, corr
    assert e.fidelity.mean() > 0.5  # each ρ drives most fresh noise samples to its class


def test_randomised_weights_destroy_the_structure():
    rand = copy.deepcopy(trojaned_cnn())
    torch.manual_seed(123)
    for m in rand.modules():
        if hasattr(m, "reset_parameters"):
            m.reset_parameters()
    opts = {**FAST, "distribution": generic_pool()}
    trained = input_agnostic(trojaned_cnn(), targets=TARGET, **opts)
    random = input_agnostic(rand, targets=TARGET, **opts)
    assert trigger_share(random.maps)[0] < trigger_share(trained.maps)[0] / 3
    corr = np.corrcoef(trained.maps.ravel(), random.maps.ravel())[0, 1]
    assert corr < 0.3, corr


def test_backdoor_scan_flags_the_target_class_only_on_the_trojaned_model():
    opts = {**FAST, "n_iter": 20, "distribution": generic_pool(), "class_names": [str(i) for i in range(10)]}
    troj = detect_backdoor(trojaned_cnn(), **opts)
    assert troj.flagged == [TARGET], troj.table()
    assert int(np.argmax(troj.anomaly)) == TARGET and troj.anomaly[TARGET] > 5
    assert troj.concentration.shape == troj.fidelity.shape == (10,)
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


def test_same_seed_same_map_and_black_boxes_are_refused():
    a = input_agnostic(clean_cnn(), targets=3, n_iter=5, seed=4)
    b = input_agnostic(clean_cnn(), targets=3, n_iter=5, seed=4)
    np.testing.assert_array_equal(a.maps, b.maps)
    with pytest.raises(InputError, match="differentiable torch model"):
        input_agnostic(lambda x: np.zeros((len(x), 10)), shape=(1, 28, 28))
    with pytest.raises(InputError, match="out of range"):
        input_agnostic(clean_cnn(), targets=10)
    with pytest.raises(InputError, match="norm"):
        input_agnostic(clean_cnn(), norm="l1")


def test_registered_in_explain():
    e = peephole.explain(clean_cnn(), np.zeros((28, 28, 3), np.float32), method="input-agnostic", targets=2, n_iter=3)
    assert e.targets == [2] and e.maps.shape == (1, 28, 28)
