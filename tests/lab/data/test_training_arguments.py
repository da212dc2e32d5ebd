"""The lab's training entry points refuse counts, weights and labels that cannot train before any training: an
untrained network saved as if trained, a label the network has no output for, a slice from the end."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from peephole.errors import InputError
from peephole_lab.data.classifiers import SmallCNN, train_classifier
from peephole_lab.data.trojan import poison
from peephole_lab.systems.explainer.digits import ExplainerConfig, digit_experiment

X = np.random.default_rng(0).random((8, 1, 28, 28)).astype(np.float32)
Y = np.arange(8) % 10


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"epochs": 0}, "epochs must be a whole number >= 1, got 0"),  # `peephole train-mnist --epochs 0` wrote it, exit 0
        ({"batch_size": -1}, "batch_size must be a whole number >= 1"),
        ({"lr": float("nan")}, "lr must be a finite number > 0"),
    ],
)
def test_train_classifier_refuses_settings_that_train_nothing(kwargs, message):
    net = SmallCNN()
    before = [p.detach().clone() for p in net.parameters()]
    with pytest.raises(InputError, match=message):
        train_classifier(net, X, Y, **kwargs)
    assert all(torch.equal(a, b) for a, b in zip(before, net.parameters(), strict=True))


def test_a_label_without_an_output_is_one_error_and_the_weights_are_untouched():
    """Label 10 for a 10-output network (`train-mnist --trojan --target 10`) was torch's IndexError mid-epoch."""
    net = SmallCNN()
    before = [p.detach().clone() for p in net.parameters()]
    with pytest.raises(InputError, match=r"labels \(lowest, highest\) must be class indices in 0..9, got \(0, 10\)"):
        train_classifier(net, X, np.where(Y == 7, 10, Y), epochs=1)
    assert all(torch.equal(a, b) for a, b in zip(before, net.parameters(), strict=True)) and net.training  # mode kept


def test_a_negative_trojan_target_is_one_error():
    with pytest.raises(InputError, match="target must be a class index"):
        poison(X, Y, -1)


@pytest.mark.parametrize(
    ("config", "message"),
    [
        ({"width": 0}, "width must be a whole number >= 1"),
        ({"batch_size": 0}, "batch_size must be a whole number >= 1"),
        ({"lr": 0.0}, "lr must be a finite number > 0"),
        ({"lambda_tv": float("nan")}, "lambda_tv must be a finite number >= 0"),
        ({"min_area": 0.5, "max_area": 0.1}, r"max_area must be in \[min_area, 1\]"),
    ],
)
def test_the_digit_explainers_config_is_checked_when_made(config, message):
    with pytest.raises(InputError, match=message):
        ExplainerConfig(**config)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"n_compare": -1}, "n_compare must be a whole number >= 1"),  # min(-1, n): all test canvases but the last
        ({"n_explainer": -3}, "n_explainer must be a whole number >= 1"),
        ({"clf_epochs": 0}, "clf_epochs must be a whole number >= 1"),
    ],
)
def test_the_digit_experiment_checks_its_counts_before_it_makes_anything(tmp_path, kwargs, message):
    with pytest.raises(InputError, match=message):
        digit_experiment(tmp_path / "out", **kwargs)
    assert not (tmp_path / "out").exists()
