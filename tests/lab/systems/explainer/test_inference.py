"""Explainer inference on classifiers it was not built with: TorchScript backbones, single-label outputs, and a
saved Explainer loaded once per file version."""

from __future__ import annotations

import os

import numpy as np
import pytest
import torch

import peephole
import peephole_lab.systems.explainer.network as network
from peephole.errors import InputError
from peephole_lab.data import SmallCNN
from peephole_lab.systems.explainer import BackboneExplainer, ExplainerNet, load_explainer, save_explainer
from peephole_lab.systems.explainer.infer import _load, class_probabilities

nn = torch.nn


def _lab_cnn(batchnorm: bool = False):
    torch.manual_seed(0)
    net = SmallCNN(in_channels=3, n_classes=4, width=4, pool="max", size=24, batchnorm=batchnorm)
    for m in net.modules():  # running statistics that are not the identity
        if isinstance(m, nn.BatchNorm2d):
            m.running_mean.uniform_(-0.5, 0.5)
            m.running_var.uniform_(0.5, 2.0)
    return net.eval()


@pytest.mark.parametrize("batchnorm", [False, True])
def test_backbone_explainer_of_a_torchscript_classifier_matches_the_eager_one_and_round_trips(tmp_path, batchnorm):
    """It refused TorchScript classifiers; now it copies them into plain layers with the same weights (with batch
    norm too: torch's BatchNorm2d takes a ``bias`` flag that the layer holds as a tensor)."""
    eager = _lab_cnn(batchnorm)
    scripted = torch.jit.script(eager)
    x = torch.rand(2, 3, 24, 24, generator=torch.Generator().manual_seed(1))
    torch.manual_seed(0)
    a = BackboneExplainer(eager, width=4).eval()
    torch.manual_seed(0)
    b = BackboneExplainer(scripted, width=4).eval()
    torch.testing.assert_close(a(x), b(x))
    # every weight, not only the output (the decoder's refinement starts at 0, so its blocks do not show in a(x)):
    # copying the TorchScript layers drew random numbers, so the two decoders started differently under one seed
    sa, sb = a.state_dict(), b.state_dict()
    assert sa.keys() == sb.keys()
    for k in sa:
        torch.testing.assert_close(sa[k], sb[k], msg=k)
    # the copied encoder is frozen whether the classifier's weights were (a frozen lab classifier: the measured
    # runs) or not (this one, or a TorchScript copy): before, a TorchScript classifier's Explainer trained its encoder
    for net in (a, b):
        assert not any(p.requires_grad for p in net.stages.parameters())
        assert all(p.requires_grad for p in [*net.cam.parameters(), *net.up.parameters(), *net.head.parameters()])
    assert "layers" in b.config and "classifier" not in b.config
    torch.testing.assert_close(load_explainer(save_explainer(b, tmp_path / "b.pt"))(x), b(x))


def test_backbone_explainer_of_a_non_lab_torchscript_architecture_and_an_uncopyable_one():
    torch.manual_seed(0)
    tanh = nn.Sequential(nn.Conv2d(1, 4, 3, padding=1), nn.Tanh(), nn.AvgPool2d(2), nn.Conv2d(4, 6, 3, padding=1))
    tanh.append(nn.Tanh()).append(nn.MaxPool2d(2)).append(nn.AdaptiveAvgPool2d(1)).append(nn.Flatten()).append(nn.Linear(6, 3))
    net = BackboneExplainer(torch.jit.script(tanh.eval()), width=4).eval()
    assert net(torch.rand(1, 1, 28, 28)).shape == (1, 3, 28, 28)

    class Odd(nn.Module):
        def forward(self, x):
            return x * 2

    with pytest.raises(InputError, match="cannot copy a Odd layer"):
        BackboneExplainer(torch.jit.script(nn.Sequential(nn.Conv2d(1, 2, 3), Odd(), nn.AdaptiveMaxPool2d(1), nn.Flatten())))


def test_a_saved_layer_list_may_only_name_plain_layers(tmp_path):
    b = BackboneExplainer(torch.jit.script(_lab_cnn()), width=4)
    save_explainer(b, tmp_path / "b.pt")
    d = torch.load(tmp_path / "b.pt", weights_only=True)
    d["config"]["layers"][0][0] = "Transformer"
    torch.save(d, tmp_path / "bad.pt")
    with pytest.raises(InputError, match="may only name"):
        load_explainer(tmp_path / "bad.pt")


def test_single_label_is_inferred_from_the_classifier_output():
    logits = torch.tensor([2.0, 1.0, 0.5, -1.0])
    p, ml, why = class_probabilities(logits, None, None)
    assert not ml and "logits" in why and p.sum() == pytest.approx(1.0)  # sigmoid rows summed to 4.44 here
    soft = torch.softmax(logits, 0)
    p, ml, _ = class_probabilities(soft, None, None)
    assert not ml and np.allclose(p, soft.numpy())
    sig = torch.tensor([0.9, 0.8, 0.1, 0.05])
    p, ml, _ = class_probabilities(sig, None, None)
    assert ml and np.allclose(p, sig.numpy())
    assert class_probabilities(logits, None, True)[1] and not class_probabilities(logits, False, True)[1]


def test_explain_uses_the_training_loss_then_the_output(tmp_path):
    clf = _lab_cnn()
    img = np.random.default_rng(0).random((24, 24, 3)).astype(np.float32)
    net = ExplainerNet(4, 3, width=4, depth=1).eval()
    e = peephole.explain(clf, img, method="explainer", explainer=net)
    assert e.params["multilabel"] is False and e.probabilities.sum() == pytest.approx(1.0, abs=1e-5)
    net.meta = {"multilabel": True}  # what train_explainer records with the default (multi-label) loss
    path = save_explainer(net, tmp_path / "ml.pt")
    e = peephole.explain(clf, img, method="explainer", explainer=str(path))
    assert e.params["multilabel"] is True and e.params["multilabel_from"] == "the Explainer's training loss"
    expected = torch.sigmoid(clf(torch.from_numpy(img.transpose(2, 0, 1))[None]))[0].detach().numpy()
    np.testing.assert_allclose(e.probabilities, expected, atol=1e-6)


@pytest.mark.parametrize("odd", [True, 3, {"net": 1}])
def test_an_explainer_that_is_no_module_is_one_input_error(odd):
    """explainer=True was an AttributeError ("'bool' object has no attribute 'eval'"), found by a seeded fuzz run."""
    img = np.random.default_rng(0).random((24, 24, 3)).astype(np.float32)
    with pytest.raises(InputError, match="explainer= must be a trained Explainer"):
        peephole.explain(_lab_cnn(), img, method="explainer", explainer=odd)


def test_a_saved_explainer_is_loaded_once_per_file_version(tmp_path, monkeypatch):
    """The path form reloaded the file on every call (9× slower)."""
    clf = _lab_cnn()
    img = np.random.default_rng(0).random((24, 24, 3)).astype(np.float32)
    path = save_explainer(ExplainerNet(4, 3, width=4, depth=1), tmp_path / "e.pt")
    calls = []

    def counting(p):
        calls.append(p)
        return load_explainer(p)

    monkeypatch.setattr(network, "load_explainer", counting)
    _load.cache_clear()
    first = peephole.explain(clf, img, method="explainer", explainer=str(path), targets=[0, 1])
    again = peephole.explain(clf, img, method="explainer", explainer=path, targets=[0, 1])
    assert len(calls) == 1 and np.array_equal(first.maps, again.maps)
    st = path.stat()
    os.utime(path, ns=(st.st_atime_ns, st.st_mtime_ns + 10**9))  # a new version of the file
    peephole.explain(clf, img, method="explainer", explainer=str(path), targets=[0, 1])
    assert len(calls) == 2
    _load.cache_clear()
