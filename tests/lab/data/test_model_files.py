"""The lab's one model reader: TorchScript, save_classifier files, bare state dicts, pickled modules (trusted only)."""

from __future__ import annotations

import pytest
import torch

from peephole.errors import InputError
from peephole_lab.data.classifiers import MLP, SmallCNN, save_classifier
from peephole_lab.data.model_files import load_model


def _same(a, b, shape=(1, 1, 28, 28)):
    x = torch.rand(*shape, generator=torch.Generator().manual_seed(0))
    with torch.no_grad():
        return torch.allclose(a(x), b(x))


def _tanh_net():
    """An architecture the lab does not know: tanh, average pooling, global average pooling."""
    torch.manual_seed(0)
    nn = torch.nn
    return nn.Sequential(nn.Conv2d(1, 4, 3), nn.Tanh(), nn.AvgPool2d(2), nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(4, 10))


def test_a_torchscript_file_of_an_unknown_architecture_loads_and_computes_the_same(tmp_path):
    net = _tanh_net().eval()
    path = tmp_path / "ts.pt"
    torch.jit.save(torch.jit.script(net), path)
    loaded = load_model(path)
    assert isinstance(loaded, torch.jit.ScriptModule) and not loaded.training
    assert _same(net, loaded)


def test_save_classifier_files_and_bare_state_dicts_of_lab_architectures_load(tmp_path):
    cnn = SmallCNN(width=4).eval()
    save_classifier(cnn, tmp_path / "c.pt", trojan=False)
    assert load_model(tmp_path / "c.pt").meta == {"trojan": False}
    for i, net in enumerate([SmallCNN(width=4, batchnorm=True, size=32).eval(), MLP(hidden=32).eval()]):
        torch.save(net.state_dict(), tmp_path / f"sd{i}.pt")
        loaded = load_model(tmp_path / f"sd{i}.pt")
        assert loaded.config == net.config
        assert _same(net, loaded, (1, 1, 32, 32) if i == 0 else (1, 1, 28, 28))


def test_a_state_dict_of_an_unknown_architecture_is_one_clear_error(tmp_path):
    torch.save(_tanh_net().state_dict(), tmp_path / "sd.pt")
    with pytest.raises(InputError, match="state dict of no architecture the lab knows.*torch.jit.save"):
        load_model(tmp_path / "sd.pt")


def test_a_pickled_module_needs_trust_pickle(tmp_path):
    net = _tanh_net().eval()
    torch.save(net, tmp_path / "m.pt")
    with pytest.raises(InputError, match="runs code from the file.*--trust-pickle"):
        load_model(tmp_path / "m.pt")
    assert _same(net, load_model(tmp_path / "m.pt", trust_pickle=True))


@pytest.mark.parametrize("content", [b"not a model", None])
def test_anything_else_is_one_clear_error(tmp_path, content):
    path = tmp_path / "x.pt"
    if content is None:
        torch.save({"weights": [1, 2, 3]}, path)
    else:
        path.write_bytes(content)
    with pytest.raises(InputError, match="not a model file; the lab reads a TorchScript file"):
        load_model(path)
    with pytest.raises(InputError, match="no such model file"):
        load_model(tmp_path / "missing.pt")
