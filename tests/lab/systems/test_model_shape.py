"""A model that does not say its input shape: probed from its first layer and one forward pass per common shape."""

from __future__ import annotations

import pytest
import torch

from peephole.errors import InputError
from peephole.gradients.differentiable import as_differentiable
from peephole_lab.systems.backdoor import default_samples
from peephole_lab.systems.model_shape import first_layer_input, model_shape, probe_shape

nn = torch.nn


def _scripted(*layers):
    torch.manual_seed(0)
    return torch.jit.script(nn.Sequential(*layers).eval())


@pytest.mark.parametrize(
    ("net", "shape"),
    [
        (lambda: _scripted(nn.Flatten(), nn.Linear(784, 10)), (1, 28, 28)),
        (lambda: _scripted(nn.Conv2d(3, 4, 3), nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(4, 10)), (3, 32, 32)),
        # 1 channel, flatten head sized for 32×32: 1×28×28 fails in the forward pass, 1×32×32 fits
        (lambda: _scripted(nn.Conv2d(1, 2, 3, padding=1), nn.Flatten(), nn.Linear(2 * 32 * 32, 10)), (1, 32, 32)),
        (lambda: _scripted(nn.Flatten(), nn.Linear(3 * 64 * 64, 10)), (3, 64, 64)),
    ],
)
def test_the_probe_finds_the_shape_of_torchscript_models(net, shape):
    dm = as_differentiable(net(), "a test")
    assert dm.shape is None and probe_shape(dm) == shape and model_shape(dm) == shape


def test_first_layer_reads_eager_and_torchscript_modules_alike():
    eager = nn.Sequential(nn.Conv2d(3, 4, 3), nn.ReLU())
    assert first_layer_input(eager) == first_layer_input(torch.jit.script(eager)) == ("Conv2d", 3)


def test_given_shape_wins_and_an_unprobeable_model_is_one_clear_error():
    dm = as_differentiable(_scripted(nn.Flatten(), nn.Linear(784, 10)), "a test")
    assert model_shape(dm, shape=(1, 28, 28)) == (1, 28, 28)
    bad = as_differentiable(_scripted(nn.Flatten(), nn.Linear(5, 10)), "a test")
    with pytest.raises(InputError, match="cannot tell the model's input shape.*Linear taking 5.*pass shape="):
        probe_shape(bad)


def test_a_torchscript_mnist_model_gets_mnist_samples_without_shape():
    """It used to fall back to noise with a warning, then fail for want of a shape."""
    net = _scripted(nn.Conv2d(1, 2, 3), nn.AdaptiveMaxPool2d(1), nn.Flatten(), nn.Linear(2, 10))
    assert default_samples(net) == "mnist"
