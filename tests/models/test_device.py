"""The device seam: a torch model runs where its parameters are; the user's module is never moved or left changed;
``device=`` names that place (checked) or, for a module without parameters, where inputs go."""

from __future__ import annotations

import numpy as np
import pytest

torch = pytest.importorskip("torch")

import peephole  # noqa: E402
from peephole.errors import InputError, ModelError  # noqa: E402
from peephole.models import TorchModel  # noqa: E402
from peephole.models.torch import evaluating, module_device  # noqa: E402

IMG = np.random.default_rng(0).random((16, 16, 3)).astype(np.float32)
PAMI = {"method": "pami", "partition": "window", "radius": 4, "stride": 4, "masker": "black", "output": "logits"}


class Net(torch.nn.Module):
    """NCHW -> 3 logits through a dropout layer (so eval mode matters) and a batch norm (its buffers count)."""

    def __init__(self) -> None:
        super().__init__()
        torch.manual_seed(0)
        self.norm = torch.nn.BatchNorm2d(3)
        self.drop = torch.nn.Dropout(0.5)
        self.lin = torch.nn.Linear(3, 3)

    def forward(self, x):
        return self.lin(self.drop(self.norm(x).mean(dim=(2, 3))))


def snapshot(net):
    return [(p, p.device, p.detach().clone()) for p in net.parameters()], net.training, [m.training for m in net.modules()]


def unchanged(net, snap) -> None:
    params, training, modes = snap
    now = list(net.parameters())
    assert len(now) == len(params)
    for p, (q, device, value) in zip(now, params):
        assert p is q and p.device == device
        if device.type != "meta":
            assert torch.equal(p.detach(), value)
    assert net.training == training and [m.training for m in net.modules()] == modes


@pytest.mark.parametrize("device", [None, "cpu", torch.device("cpu")])
def test_explain_runs_a_cpu_module_where_it_is_and_leaves_it_as_it_was(device):
    net = Net()  # in train mode, as the user left it
    snap = snapshot(net)
    e = peephole.explain(net, IMG, device=device, **PAMI)
    unchanged(net, snap)
    with torch.no_grad():
        want = torch.softmax(net.eval()(torch.from_numpy(IMG.transpose(2, 0, 1).copy())[None]), 1)[0].numpy()
    np.testing.assert_allclose(e.probabilities, want, rtol=1e-5, atol=1e-6)  # eval mode inside the call: no dropout
    again = peephole.explain(net.train(), IMG, device=device, **PAMI)
    np.testing.assert_array_equal(again.maps, e.maps)  # deterministic: dropout never ran


def test_a_module_on_another_device_is_not_moved_to_the_one_asked_for():
    net = Net().to("meta")
    snap = snapshot(net)
    with pytest.raises(InputError, match=r"device='cpu', but the module's parameters are on 'meta'; Peephole does not move"):
        peephole.explain(net, IMG, device="cpu", **PAMI)
    unchanged(net, snap)
    with pytest.raises(ModelError, match="the model"):  # run where it is (meta): its outputs hold no numbers
        peephole.explain(net, IMG, **PAMI)
    unchanged(net, snap)


def test_module_device_is_the_parameters_else_the_buffers_else_the_one_asked_for():
    assert module_device(Net()) == torch.device("cpu")
    assert module_device(Net().to("meta")) == torch.device("meta")
    only_buffers = torch.nn.BatchNorm2d(3, affine=False).to("meta")
    assert module_device(only_buffers) == torch.device("meta")
    assert module_device(torch.nn.Flatten()) == torch.device("cpu")
    assert module_device(torch.nn.Flatten(), "meta") == torch.device("meta")


def test_a_module_without_parameters_gets_its_inputs_on_the_device_asked_for():
    seen = []

    class Probe(torch.nn.Module):
        def forward(self, x):
            seen.append(x.device)
            return x.mean(dim=(2, 3))

    e = peephole.explain(Probe(), IMG, device="cpu", **PAMI)
    assert set(seen) == {torch.device("cpu")} and e.maps.shape == (1, 16, 16)


def test_the_torch_adapter_follows_use_device_without_moving_the_module():
    net = Net()
    m = TorchModel(net, output="logits")
    assert m.device == torch.device("cpu")
    m.use_device("cpu")
    with pytest.raises(InputError, match="does not move your module"):
        m.use_device("meta")
    assert all(p.device.type == "cpu" for p in net.parameters())


def test_device_is_for_torch_models_only():
    with pytest.raises(InputError, match="device= is for torch models"):
        peephole.explain(lambda b: np.full((len(b), 2), 0.5), IMG, device="cpu", **{**PAMI, "output": "probs"})


def test_evaluating_restores_each_submodules_own_mode():
    net = Net()
    net.drop.eval()  # a mixed state the user chose
    with evaluating(net):
        assert not any(m.training for m in net.modules())
    assert net.training and net.norm.training and not net.drop.training


def test_gradient_methods_run_on_the_modules_device_and_leave_it_there():
    pytest.importorskip("captum")
    net = torch.nn.Sequential(torch.nn.Conv2d(3, 2, 3), torch.nn.AdaptiveAvgPool2d(1), torch.nn.Flatten())
    e = peephole.explain(net, IMG, method="saliency", output="logits", device="cpu")
    assert e.maps.shape == (1, 16, 16) and np.isfinite(e.maps).all()
    assert all(p.device.type == "cpu" for p in net.parameters())
    with pytest.raises(InputError, match="does not move your module"):
        peephole.explain(net, IMG, method="saliency", output="logits", device="meta")


@pytest.mark.parametrize("device", [True, 1.5, [1], "nonsense"])
def test_a_device_that_is_not_one_is_an_input_error(device):
    """Found by tests/test_fuzz.py: ``device=True`` used to raise torch's TypeError from inside the adapter."""
    with pytest.raises(InputError, match="device must be None, a device name"):
        peephole.explain(Net(), IMG, device=device, **PAMI)


class ConvNet(torch.nn.Module):
    """NCHW -> 3 logits with a conv layer (for the CAMs), a dropout (eval mode matters) and a batch norm."""

    def __init__(self) -> None:
        super().__init__()
        torch.manual_seed(0)
        self.conv = torch.nn.Conv2d(3, 4, 3, padding=1)
        self.norm = torch.nn.BatchNorm2d(4)
        self.drop = torch.nn.Dropout(0.5)
        self.pool = torch.nn.AdaptiveAvgPool2d(1)
        self.lin = torch.nn.Linear(4, 3)

    def forward(self, x):
        return self.lin(self.drop(self.pool(torch.relu(self.norm(self.conv(x)))).flatten(1)))


SPIED = ("to", "cpu", "cuda", "eval", "train", "requires_grad_", "float", "half")


@pytest.mark.parametrize("method", ["pami", "pami-path", "rise", "saliency", "integrated-gradients", "gradcam", "scorecam"])
def test_no_method_moves_changes_or_puts_gradients_into_the_users_module(method, monkeypatch):
    """A spy on every call that moves a module or changes its mode or its weights' gradient flag: none is made, on
    the module or on any of its parameters, by the black-box adapter or by the gradient methods' differentiable view."""
    pytest.importorskip("captum")
    net = ConvNet()  # train mode, weights requiring gradients: as a user fine-tuning it would leave it
    snap = snapshot(net)
    calls: list[str] = []
    ours = {id(m) for m in net.modules()} | {id(p) for p in net.parameters()}

    def spy(cls, name):
        real = getattr(cls, name)

        def wrapper(self, *a, **k):
            if id(self) in ours:
                calls.append(f"{type(self).__name__}.{name}")
            return real(self, *a, **k)

        monkeypatch.setattr(cls, name, wrapper)

    for name in SPIED:
        for cls in (torch.nn.Module, torch.Tensor):
            if hasattr(cls, name):
                spy(cls, name)
    options = {"partition": "window", "radius": 4, "stride": 4} if method.startswith("pami") else {}
    options = {"n_masks": 32} if method == "rise" else options
    e = peephole.explain(net, IMG, method, output="logits", **options)
    assert e.maps.shape[-2:] == IMG.shape[:2]
    assert calls == []
    unchanged(net, snap)
    assert all(p.requires_grad and p.grad is None for p in net.parameters())  # no gradient reached the weights


@pytest.mark.skipif(not torch.cuda.is_available(), reason="device='cuda' needs a CUDA GPU; none on this machine")
def test_a_cuda_module_is_explained_on_its_gpu_with_the_same_maps_as_on_the_cpu():
    net = Net().cuda()
    snap = snapshot(net)
    e = peephole.explain(net, IMG, device="cuda", **PAMI)
    unchanged(net, snap)
    host = peephole.explain(Net(), IMG, **PAMI)
    np.testing.assert_allclose(e.maps, host.maps, rtol=1e-4, atol=1e-5)


class Small(torch.nn.Module):
    def __init__(self) -> None:
        super().__init__()
        torch.manual_seed(0)
        self.conv = torch.nn.Conv2d(3, 3, 3)

    def forward(self, x):
        return self.conv(x).mean((2, 3))


@pytest.mark.parametrize(
    "options",
    [
        {"method": "pami", "partition": "window", "radius": 4, "stride": 4, "masker": "blur"},
        {"method": "pami-path", "n_samples": 12, "max_queries": 40},
        {"method": "rise", "n_masks": 24},
        {"method": "lime", "n_samples": 24},
    ],
    ids=["pami-blur", "pami-path", "rise-soft", "lime-grey"],
)
@pytest.mark.parametrize("size", [None, (20, 20)], ids=["as-is", "resized"])
def test_masks_built_on_the_models_device_give_the_maps_of_host_masks(options, size):
    from peephole.models import ImagePreprocess

    pre = ImagePreprocess(size=size, mean=(0.4, 0.5, 0.6), std=(0.2, 0.3, 0.25))
    device, host = (TorchModel(Small(), "logits", pre, device_masks=d) for d in (True, False))
    assert device.arrays is not None and device.arrays.device == torch.device("cpu") and host.arrays is None
    a, b = (peephole.explain(m, IMG, seed=2, **options) for m in (device, host))
    np.testing.assert_allclose(a.maps, b.maps, rtol=1e-4, atol=1e-5)
    np.testing.assert_allclose(a.scores, b.scores, rtol=1e-4, atol=1e-5)
    assert a.n_queries == b.n_queries
    from peephole.core.perturb import Arrays
    from peephole.modalities import get_modality

    masker = get_modality("image").masker("blur")
    keep = np.random.default_rng(0).random((5, 16, 16)) > 0.5
    on_device = masker.bind_to(IMG, device.arrays)(keep)
    assert isinstance(on_device, torch.Tensor)  # built by torch where the model is, from boolean masks
    np.testing.assert_array_equal(on_device.numpy(), masker.bind(IMG)(keep))
    assert isinstance(Arrays(device.arrays.xp, "cpu").asarray(keep), torch.Tensor)


def test_a_cpu_model_keeps_host_masks_by_default_and_a_gpu_model_gets_device_masks():
    assert TorchModel(Small(), "logits").arrays is None  # the CPU: NumPy's masker measured as fast (docs/devices.md)
    assert TorchModel(Small(), "logits", device_masks=True).arrays.device == torch.device("cpu")
    if torch.cuda.is_available():
        assert TorchModel(Small().cuda(), "logits").arrays.device.type == "cuda"
