"""Input-agnostic saliency (Akhtar & Jalwana, AAAI 2023) on clean / BadNets MNIST CNNs."""

from __future__ import annotations

import copy

import numpy as np
import pytest
import torch
from systems_fixtures import TARGET, TRIGGER, clean_cnn, generic_pool, single_thread, trojaned_cnn  # noqa: F401

import peephole
from peephole.errors import InputError
from peephole_lab.systems.input_agnostic import project

FAST = {"n_iter": 30, "batch_size": 32, "fidelity_samples": 200}

pytestmark = pytest.mark.usefixtures("single_thread")


def input_agnostic(model, image=None, **options):
    """``peephole.explain(model, image, method='input-agnostic', ...)`` (the image is optional)."""
    return peephole.explain(model, image, method="input-agnostic", **options)


def trigger_share(maps: np.ndarray) -> np.ndarray:
    m = TRIGGER.mask(*maps.shape[-2:])
    return (maps * m).sum((-2, -1)) / maps.sum((-2, -1))


def test_trojaned_target_map_concentrates_on_the_trigger():
    opts = {**FAST, "distribution": generic_pool()}
    troj = input_agnostic(trojaned_cnn(), targets=TARGET, **opts)
    clean = input_agnostic(clean_cnn(), targets=TARGET, **opts)
    s_troj, s_clean = trigger_share(troj.maps)[0], trigger_share(clean.maps)[0]
    # the trigger is 16 of 784 pixels (2%): the trojaned map puts > 10× that share of its mass there
    assert s_troj > 0.2, s_troj
    assert s_troj > 5 * s_clean, (s_troj, s_clean)
    assert troj.extras["fidelity"][0] > 0.9 > clean.extras["fidelity"][0]
    assert troj.method == "input-agnostic" and troj.maps.shape == (1, 28, 28)
    assert troj.overlay().shape == (28, 28, 3)


@pytest.mark.parametrize("norm", ["l2", "linf"])
def test_projection_keeps_rho_in_the_eta_ball(norm):
    eta = 1.5 if norm == "l2" else 0.05
    e = input_agnostic(clean_cnn(), targets=[0, 1], eta=eta, norm=norm, n_iter=10, step=eta, refine_levels=None)
    for rho in e.extras["perturbations"]:
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
    assert e.extras["fidelity"].mean() > 0.5  # each ρ drives most fresh noise samples to its class


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
    for key in ("n_iter", "fidelity_samples"):  # 2**40 iterations ran for days; 2**40 samples asked terabytes at once
        with pytest.raises(InputError, match=rf"{key} must be a whole number in \[1, 4194304\], got 1099511627776"):
            input_agnostic(clean_cnn(), targets=3, **{key: 2**40})
    image = np.zeros((28, 28, 3), np.float32)  # 4,000,000 random 1×28×28 inputs per step: 12.5 GB (torch's alloc error)
    with pytest.raises(InputError, match="batch_size=4000000 random .* inputs per step take more than 1024 MiB"):
        peephole.explain(clean_cnn(), image, method="input-agnostic", targets=3, batch_size=4_000_000)
    for levels in ([1, 2], [-0.5], [float("nan")]):  # 2 was torch's "quantile() q must be in the range [0, 1]"
        with pytest.raises(InputError, match="refine_levels are quantiles of"):
            input_agnostic(clean_cnn(), targets=3, n_iter=2, refine_levels=levels)


def test_registered_in_explain():
    e = peephole.explain(clean_cnn(), np.zeros((28, 28, 3), np.float32), method="input-agnostic", targets=2, n_iter=3)
    assert e.targets == [2] and e.maps.shape == (1, 28, 28)
