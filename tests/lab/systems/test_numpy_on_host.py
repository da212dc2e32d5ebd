"""Tensors are read as NumPy only on the host: a model on a GPU returns device tensors, whose ``.numpy()`` raises.

A static check over the whole ``src`` tree (every ``.numpy()`` is on a ``.cpu()`` result, or in a function that moved
its tensor with ``.cpu()`` first) and, for the lab's and the card's readers, a run under a patched torch in which
``.numpy()`` raises on any tensor that did not come from ``.cpu()`` (as it would for a CUDA tensor)."""

from __future__ import annotations

import ast
from pathlib import Path

import numpy as np
import pytest

torch = pytest.importorskip("torch")

SRC = Path(__file__).resolve().parents[3] / "src"


def _unsafe(tree: ast.AST) -> list[int]:
    """Lines of ``X.numpy()`` calls whose ``X`` is not ``....cpu()`` in a function with no ``.cpu()`` call before."""

    def calls(node: ast.AST, attr: str) -> list[ast.Call]:
        return [
            c
            for c in ast.walk(node)
            if isinstance(c, ast.Call) and isinstance(c.func, ast.Attribute) and c.func.attr == attr and not c.args
        ]

    bad = []
    for fn in [n for n in ast.walk(tree) if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda))]:
        moved = [c.lineno for c in calls(fn, "cpu")]
        for c in calls(fn, "numpy"):
            receiver = c.func.value
            on_cpu = isinstance(receiver, ast.Call) and isinstance(receiver.func, ast.Attribute) and receiver.func.attr == "cpu"
            if not on_cpu and not any(line <= c.lineno for line in moved):
                bad.append(c.lineno)
    return bad


def test_the_static_check_finds_a_device_tensor_read_without_cpu():
    assert _unsafe(ast.parse("def f(t):\n    return t.sigmoid().numpy()\n")) == [2]
    assert _unsafe(ast.parse("def f(t):\n    return t.detach().cpu().numpy()\n")) == []
    assert _unsafe(ast.parse("def f(t):\n    t = t.detach().cpu()\n    return t.numpy()\n")) == []


def test_no_tensor_is_read_with_numpy_before_it_is_on_the_cpu():
    found = [f"{p.relative_to(SRC)}:{line}" for p in sorted(SRC.rglob("*.py")) for line in _unsafe(ast.parse(p.read_text()))]
    assert found == [], "use peephole.core.query.to_numpy (detach, cpu, then numpy): " + ", ".join(found)


@pytest.fixture
def device_torch(monkeypatch):
    """torch as on a GPU: ``.numpy()`` raises on a tensor that did not come out of ``.cpu()`` (which copies here)."""
    cpu, numpy = torch.Tensor.cpu, torch.Tensor.numpy

    def to_host(self, *args, **kwargs):
        out = cpu(self, *args, **kwargs).clone()
        out._on_host = True
        return out

    def read(self, *args, **kwargs):
        if not getattr(self, "_on_host", False):
            raise TypeError("can't convert cuda:0 device type tensor to numpy. Use Tensor.cpu() to copy the tensor first.")
        return numpy(self, *args, **kwargs)

    monkeypatch.setattr(torch.Tensor, "cpu", to_host)
    monkeypatch.setattr(torch.Tensor, "numpy", read)
    with pytest.raises(TypeError, match="cuda"):  # the patch is what it claims to be
        torch.ones(2).numpy()
    return torch


def test_the_lab_and_the_card_read_model_outputs_on_a_device(device_torch):
    from peephole.evaluation.synthetic import accuracy as card_accuracy
    from peephole.evaluation.synthetic import make_synthetic
    from peephole_lab.data.classifiers import accuracy
    from peephole_lab.systems.explainer.evaluate import predict_masks
    from peephole_lab.systems.explainer.teacher import nchw_callable

    torch.manual_seed(0)
    flat = torch.nn.Sequential(torch.nn.Flatten(), torch.nn.Linear(2 * 4 * 4, 3)).eval()
    x = np.random.default_rng(0).random((5, 2, 4, 4), dtype=np.float32)
    with torch.no_grad():
        pred = flat(torch.from_numpy(x)).argmax(1).detach().cpu().numpy()
    assert accuracy(flat, x, pred) == 1.0
    conv = torch.nn.Conv2d(3, 2, 1).eval()
    probs = nchw_callable(conv, sigmoid=True)(np.random.default_rng(1).random((2, 4, 4, 3)))
    assert probs.shape == (2, 2, 4, 4) and ((probs > 0) & (probs < 1)).all()
    masks = predict_masks(conv, np.random.default_rng(2).random((3, 3, 4, 4), dtype=np.float32))
    assert masks.shape == (3, 2, 4, 4)
    data = make_synthetic(4, seed=0)
    net = torch.nn.Sequential(torch.nn.Flatten(), torch.nn.LazyLinear(len(set(data.labels.tolist())) + 4)).eval()
    assert 0.0 <= card_accuracy(net, data) <= 1.0
