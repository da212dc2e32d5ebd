"""Model adapters: callables, torch modules, ONNX files; outputs must be declared, never guessed."""

import numpy as np
import pytest
import torch

import peephole
from peephole.errors import InputError
from peephole.models import CallableModel, ImagePreprocess, OnnxModel, TorchModel, as_model


class TinyNet(torch.nn.Module):
    """NCHW -> 3 logits: mean of each channel times a weight."""

    def __init__(self):
        super().__init__()
        torch.manual_seed(0)
        self.lin = torch.nn.Linear(3, 3)

    def forward(self, x):
        return self.lin(x.mean(dim=(2, 3)))


def reference(batch):
    net = TinyNet()
    with torch.no_grad():
        return net(torch.from_numpy(np.asarray(batch).transpose(0, 3, 1, 2).copy())).numpy()


BATCH = np.random.default_rng(0).random((5, 16, 16, 3)).astype(np.float32)


def test_torch_adapter_matches_the_module():
    m = TorchModel(TinyNet(), output="logits")
    np.testing.assert_allclose(m(BATCH), reference(BATCH), atol=1e-6)
    assert m.module.training  # the user's module is left in its own mode (it runs in eval mode inside each call)


def test_onnx_adapter_matches_the_module(tmp_path):
    path = tmp_path / "tiny.onnx"
    torch.onnx.export(
        TinyNet().eval(), (torch.rand(1, 3, 16, 16),), str(path), input_names=["x"], dynamic_axes={"x": {0: "b"}}, dynamo=False
    )
    m = OnnxModel(path, output="logits", preprocess=ImagePreprocess())
    np.testing.assert_allclose(m(BATCH), reference(BATCH), atol=1e-5)


def test_preprocess_resizes_normalises_and_reorders():
    pre = ImagePreprocess(size=(8, 10), mean=(0.5, 0.5, 0.5), std=(0.25, 0.25, 0.25))
    out = pre(np.full((2, 16, 16, 3), 0.75, np.float32))
    assert out.shape == (2, 3, 8, 10)
    np.testing.assert_allclose(out, 1.0)


def test_outputs_must_be_declared():
    with pytest.raises(InputError, match="plain callable must declare"):
        as_model(lambda b: b)
    with pytest.raises(InputError, match="torch module's outputs must be declared"):
        as_model(TinyNet())
    assert isinstance(as_model(lambda b: b, output="probs"), CallableModel)
    assert isinstance(as_model(TinyNet(), output="logits"), TorchModel)
    with pytest.raises(InputError, match="contradicts"):
        as_model(CallableModel(lambda b: b, output="probs"), output="logits")
    with pytest.raises(InputError, match="cannot use a int"):
        as_model(3)


def test_unknown_model_and_missing_onnx_file(tmp_path):
    with pytest.raises(InputError, match="unknown model 'resnet9000'"):
        peephole.load_model("resnet9000")
    with pytest.raises(InputError, match="no such ONNX file"):
        peephole.load_model(str(tmp_path / "nope.onnx"))
    (tmp_path / "bad.onnx").write_bytes(b"garbage")
    with pytest.raises(InputError, match="onnxruntime cannot load it"):
        peephole.load_model(str(tmp_path / "bad.onnx"))
    for name in ("model.pt", "weights.safetensors", "net.h5"):  # "unknown model" said nothing of how to give them
        with pytest.raises(InputError, match=f"{name}: Peephole does not load .* files by name .*package.module:factory"):
            peephole.load_model(str(tmp_path / name))


def test_explain_with_a_torch_module_end_to_end():
    img = np.random.default_rng(1).random((48, 48, 3)).astype(np.float32)
    e = peephole.explain(TinyNet(), img, partition="window", radius=10, stride=12, output="logits", top_k=2)
    assert e.maps.shape == (2, 48, 48) and len(e.targets) == 2
    np.testing.assert_allclose(e.probabilities.sum(), 1, atol=1e-5)


class TinyConv(torch.nn.Module):
    """A convolution, then a global mean: layout-independent, so channels-last is used."""

    def __init__(self):
        super().__init__()
        torch.manual_seed(1)
        self.conv = torch.nn.Conv2d(3, 4, 3)

    def forward(self, x):
        return self.conv(x).mean(dim=(2, 3))


class NeedsDefaultStrides(torch.nn.Module):
    """``view`` on the 4-D input: raises on a channels-last tensor."""

    def forward(self, x):
        return x.view(x.shape[0], -1)[:, :3]


class ReadsMemory(torch.nn.Module):
    """Reads the first 3 stored values of each image: a layout-dependent output (channels-last must be refused)."""

    def forward(self, x):
        return x.as_strided((x.shape[0], 3), (x.stride(0), 1)) + 0


def test_torch_adapter_uses_channels_last_only_where_the_outputs_agree():
    for net, used in ((TinyConv(), True), (NeedsDefaultStrides(), False), (ReadsMemory(), False)):
        weights = [p.detach().clone() for p in net.parameters()]
        m = TorchModel(net, output="logits")
        assert m.channels_last is None  # not checked before the first batch
        with torch.no_grad():
            expected = net(torch.from_numpy(BATCH.transpose(0, 3, 1, 2).copy())).numpy()
        for _ in range(2):  # the first call checks, the second uses the decision
            np.testing.assert_allclose(m(BATCH), expected, rtol=1e-5, atol=1e-6)
        assert m.channels_last is used, type(net).__name__
        for p, w in zip(net.parameters(), weights):  # the user's module is not changed
            assert p.is_contiguous() and torch.equal(p, w)
    off = TorchModel(TinyConv(), output="logits", channels_last=False)
    off(BATCH)
    assert off.channels_last is False


class TwoOutputs(torch.nn.Module):
    """``(logits, features)`` or ``{"logits": ..., "features": ...}``: what many modules return."""

    def __init__(self, as_dict: bool = False):
        super().__init__()
        self.net, self.as_dict = TinyNet(), as_dict

    def forward(self, x):
        logits, features = self.net(x), x.mean(dim=(2, 3))
        return {"logits": logits, "features": features} if self.as_dict else (logits, features)


@pytest.mark.parametrize(
    ("model", "message"),
    [
        (TwoOutputs(), r"a tuple of 2 arrays \(shapes \(1, 3\), \(1, 3\)\)"),
        (TwoOutputs(as_dict=True), r"a dict of 2 outputs \('logits', 'features'\)"),
        (lambda b: (reference(b), reference(b)[:, :2]), r"a tuple of 2 arrays \(shapes \(1, 3\), \(1, 2\)\)"),
        (lambda b: {"logits": reference(b)}, r"a dict of 1 outputs \('logits'\)"),
    ],
)
def test_a_model_returning_several_outputs_is_one_error_saying_to_return_the_scores(model, message):
    """A module's ``(logits, features)`` was "the model raised AttributeError: 'tuple' object has no attribute
    'detach'", a callable's NumPy's "inhomogeneous shape" or "float() argument ... not 'dict'". One ModelError says
    what came back and what to return; a list of one row per input is still read as the scores."""
    with pytest.raises(peephole.ModelError, match=message + r" on the unperturbed image; Peephole reads one \(1, n_classes\)"):
        peephole.explain(model, BATCH[0], "occlusion", output="logits", radius=4, stride=4)
    rows = peephole.explain(lambda b: list(reference(b)), BATCH[0], "occlusion", output="logits", radius=4, stride=4)
    want = peephole.explain(reference, BATCH[0], "occlusion", output="logits", radius=4, stride=4)
    np.testing.assert_allclose(rows.maps, want.maps, atol=1e-7)


@pytest.mark.parametrize("dtype", [torch.float16, torch.bfloat16])
def test_a_half_precision_module_is_given_its_own_type(dtype):
    """A module converted with ``.half()`` (or to bfloat16) failed on every image: "mat1 and mat2 must have the same
    dtype". Its input is cast to its parameters' type; its scores are those of its float32 self within that type's
    precision."""
    half = TinyNet().to(dtype)
    got = TorchModel(half, output="logits")(BATCH)
    assert got.dtype == np.float32
    np.testing.assert_allclose(got, reference(BATCH), atol=3e-2)
    assert next(half.parameters()).dtype == dtype  # the module is not converted
    e = peephole.explain(half, BATCH[0], "occlusion", output="logits", radius=4, stride=4)
    assert np.isfinite(e.maps).all() and e.maps.shape == (1, 16, 16)
    # the gradient methods' own path through the module (integrated gradients: a linear model's other maps are flat)
    want = peephole.explain(TinyNet(), BATCH[0], "integrated-gradients", output="logits", targets=[0]).maps.ravel()
    got = peephole.explain(half, BATCH[0], "integrated-gradients", output="logits", targets=[0]).maps.ravel()
    assert np.corrcoef(want, got)[0, 1] > 0.98


def test_a_module_in_train_mode_called_from_two_threads_runs_in_eval_mode_and_is_left_as_it_was():
    """Eval mode was set and restored per call: a second thread saved the first's eval mode as the module's own, the
    first restored train mode under the second's forward pass (dropout in it) and the second left the module in eval
    mode. The first caller in now saves the modes and the last one out restores them."""
    import threading
    import time

    class Slow(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.net, self.drop, self.calls = TinyNet(), torch.nn.Dropout(0.9), 0

        def forward(self, x):
            self.calls += 1
            time.sleep(0.01 if self.calls == 1 else 0.3)  # the first call leaves while the second is inside
            return self.drop(self.net(x))

    module = Slow().train()
    model = TorchModel(module, output="logits", channels_last=False)
    want = reference(BATCH[:1])
    got, start = {}, threading.Barrier(2)

    def call(name, delay):
        start.wait()
        time.sleep(delay)
        got[name] = model(BATCH[:1])

    threads = [threading.Thread(target=call, args=(n, d)) for n, d in (("first", 0.0), ("second", 0.005))]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    for name in ("first", "second"):
        np.testing.assert_allclose(got[name], want, atol=1e-6)  # no dropout: eval mode in both calls
    assert module.training and module.drop.training  # the user's module left in train mode
