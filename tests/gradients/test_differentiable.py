"""The differentiable view the gradient-based systems take of torch models (modules and TorchModel adapters)."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from peephole.errors import InputError
from peephole.gradients.differentiable import as_differentiable, resolve_shape, to_chw
from peephole.models import ImagePreprocess, TorchModel


def tiny() -> torch.nn.Module:
    torch.manual_seed(0)
    return torch.nn.Sequential(torch.nn.Conv2d(3, 2, 3, padding=1), torch.nn.Flatten(), torch.nn.Linear(2 * 6 * 6, 4))


def test_torch_model_adapter_keeps_its_normalisation_and_gradients():
    pre = ImagePreprocess(mean=(0.5, 0.4, 0.3), std=(0.2, 0.25, 0.3))
    tm = TorchModel(tiny(), output="logits", preprocess=pre)
    dm = as_differentiable(tm, "test")
    x = np.random.default_rng(0).uniform(0, 1, (2, 6, 6, 3)).astype(np.float32)
    xt = torch.from_numpy(x.transpose(0, 3, 1, 2).copy()).requires_grad_(True)
    out = dm.logits(xt)
    np.testing.assert_allclose(out.detach().numpy(), tm(x), rtol=1e-5, atol=1e-5)  # same as the black-box path
    out[:, 1].sum().backward()
    assert xt.grad is not None and float(xt.grad.abs().sum()) > 0


def test_probability_models_are_turned_into_log_probabilities():
    net = torch.nn.Sequential(tiny(), torch.nn.Softmax(1))
    x = torch.rand(3, 3, 6, 6)
    got = as_differentiable(net, "test", output="probs").logits(x)
    torch.testing.assert_close(got, torch.log(net(x)))


def test_shapes_and_black_boxes():
    assert to_chw(np.zeros((5, 7, 3), np.float32), None).shape == (3, 5, 7)
    assert to_chw(np.zeros((5, 7), np.float32), None).shape == (1, 5, 7)
    assert to_chw(np.zeros((5, 7, 3), np.float32), (1, 5, 7)).shape == (1, 5, 7)  # colour -> grey for a grey model
    with pytest.raises(InputError, match=r"\[0, 1\]"):
        to_chw(np.full((5, 7), 2.0), None)
    dm = as_differentiable(tiny(), "test")
    with pytest.raises(InputError, match="shape"):
        resolve_shape(dm, None, None)
    assert resolve_shape(dm, None, (3, 6, 6)) == (3, 6, 6)
    for black_box in (lambda x: x, np.zeros(3), "not-a-model.onnx"):
        with pytest.raises(InputError):
            as_differentiable(black_box, "test")
