"""Captum / Score-CAM wrappers on a tiny torch model whose class-1 evidence lies only in a known region."""

from __future__ import annotations

import numpy as np
import pytest

torch = pytest.importorskip("torch")
pytest.importorskip("captum")

from peephole.errors import InputError  # noqa: E402
from peephole.explanation import Explanation  # noqa: E402
from peephole.methods.gradients import GRADIENT_METHODS, cam_layer, gradient_explanation  # noqa: E402

H = W = 24
REGION = (slice(4, 10), slice(12, 20))


class Tiny(torch.nn.Module):
    """Sees only REGION (the input is multiplied by a fixed 0/1 mask), conv → ReLU6 → pool → linear."""

    def __init__(self) -> None:
        super().__init__()
        g = torch.Generator().manual_seed(0)
        mask = torch.zeros(1, 1, H, W)
        mask[..., REGION[0], REGION[1]] = 1.0
        self.register_buffer("mask", mask)
        self.conv = torch.nn.Conv2d(3, 6, 3, padding=1, bias=False)
        self.act = torch.nn.ReLU6()
        self.pool = torch.nn.AdaptiveAvgPool2d(1)
        self.fc = torch.nn.Linear(6, 2)
        with torch.no_grad():
            self.conv.weight.copy_(torch.randn(6, 3, 3, 3, generator=g))
            self.fc.weight.copy_(torch.tensor([[-1.0] * 6, [1.0, 1.0, -0.5, 1.0, 2.0, -1.0]]))
            self.fc.bias.zero_()

    def forward(self, x):
        return self.fc(self.pool(self.act(self.conv(x * self.mask))).flatten(1))


def image() -> np.ndarray:
    return np.random.default_rng(1).random((H, W, 3)).astype(np.float32)


def far_from_region() -> np.ndarray:
    far = np.ones((H, W), bool)
    far[REGION[0].start - 1 : REGION[0].stop + 1, REGION[1].start - 1 : REGION[1].stop + 1] = False  # 3×3 conv reach
    return far


@pytest.mark.parametrize("method", GRADIENT_METHODS)
def test_every_method_puts_its_map_on_the_region_the_model_sees(method):
    e = gradient_explanation(method, Tiny(), image(), targets=1, n_samples=4, n_steps=8)
    assert isinstance(e, Explanation) and e.maps.shape == (1, H, W) and e.method == method
    m = e.maps[0]
    assert np.isfinite(m).all() and m.max() > 0
    r, c = np.unravel_index(np.argmax(m), m.shape)
    assert not far_from_region()[r, c]
    if method in ("saliency", "guided-backprop", "integrated-gradients", "smoothgrad"):
        assert np.all(m[~np.pad(np.ones((6, 8), bool), ((4, 14), (12, 4)))] == 0)  # zero gradient outside the mask
    if method == "scorecam":
        assert np.all(m[far_from_region()] < 1e-6 * m.max() + 1e-12)


def test_saliency_is_the_absolute_input_gradient_summed_over_channels():
    net, img = Tiny(), image()
    x = torch.from_numpy(img.transpose(2, 0, 1))[None].requires_grad_(True)
    net(x)[0, 1].backward()
    want = x.grad[0].abs().sum(0).numpy()
    np.testing.assert_allclose(gradient_explanation("saliency", net, img, targets=1).maps[0], want, rtol=1e-5)


def test_guided_backprop_overrides_relu6_gradients():
    img = image()
    sal = gradient_explanation("saliency", Tiny(), img, targets=1).maps[0]
    gb = gradient_explanation("guided-backprop", Tiny(), img, targets=1).maps[0]
    assert not np.allclose(sal, gb)  # without the ReLU6 hook both would be the plain gradient


def test_cam_layer_defaults_to_the_input_of_the_last_global_pool():
    net = Tiny()
    layer, use_input = cam_layer(net)
    assert layer is net.pool and use_input
    layer, use_input = cam_layer(net, "conv")
    assert layer is net.conv and not use_input
    with pytest.raises(InputError, match="no layer"):
        cam_layer(net, "nope")


def test_black_boxes_and_unknown_methods_are_refused():
    with pytest.raises(InputError, match="torch"):
        gradient_explanation("saliency", lambda b: np.zeros((len(b), 2)), image())
    with pytest.raises(InputError, match="unknown gradient method"):
        gradient_explanation("deeplift", Tiny(), image())


def test_registered_in_explain():
    import peephole

    e = peephole.explain(Tiny(), image(), method="gradcam", targets=1)
    assert e.method == "gradcam" and e.maps.shape == (1, H, W)


@pytest.mark.slow
def test_gradcam_on_the_real_torch_model_points_at_the_cat():
    import peephole
    from peephole.image.io import load_image

    img = load_image("skimage:chelsea", size=224)
    e = peephole.explain(peephole.load_model("efficientnet-lite0", "torch"), img, method="gradcam")
    assert "cat" in e.name(e.targets[0]).lower()
    r, c = np.unravel_index(np.argmax(e.maps[0]), e.maps[0].shape)
    assert 40 <= c <= 190 and r <= 190  # on the cat's head/body, not in a corner
