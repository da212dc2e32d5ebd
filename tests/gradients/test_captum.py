"""Captum wrappers on a tiny torch model whose class-1 evidence lies only in a known region."""

from __future__ import annotations

import numpy as np
import pytest

torch = pytest.importorskip("torch")
pytest.importorskip("captum")

from gradients_fixtures import FAST, H, Tiny, W, far_from_region, image  # noqa: E402

import peephole  # noqa: E402
from peephole.errors import InputError  # noqa: E402
from peephole.gradients.captum import RULES  # noqa: E402
from peephole.gradients.differentiable import cam_layer  # noqa: E402
from peephole.result import Explanation  # noqa: E402


@pytest.mark.parametrize("method", RULES)
def test_every_method_puts_its_map_on_the_region_the_model_sees(method):
    e = peephole.explain(Tiny(), image(), method=method, targets=1, **FAST.get(method, {}))
    assert isinstance(e, Explanation) and e.maps.shape == (1, H, W) and e.method == method
    m = e.maps[0]
    assert np.isfinite(m).all() and m.max() > 0
    r, c = np.unravel_index(np.argmax(m), m.shape)
    assert not far_from_region()[r, c]
    if method in ("saliency", "guided-backprop", "integrated-gradients", "smoothgrad"):
        assert np.all(m[~np.pad(np.ones((6, 8), bool), ((4, 14), (12, 4)))] == 0)  # zero gradient outside the mask


def test_saliency_is_the_absolute_input_gradient_summed_over_channels():
    net, img = Tiny(), image()
    x = torch.from_numpy(img.transpose(2, 0, 1))[None].requires_grad_(True)
    net(x)[0, 1].backward()
    want = x.grad[0].abs().sum(0).numpy()
    np.testing.assert_allclose(peephole.explain(net, img, method="saliency", targets=1).maps[0], want, rtol=1e-5)


def test_guided_backprop_overrides_relu6_gradients():
    img = image()
    sal = peephole.explain(Tiny(), img, method="saliency", targets=1).maps[0]
    gb = peephole.explain(Tiny(), img, method="guided-backprop", targets=1).maps[0]
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
        peephole.explain(lambda b: np.zeros((len(b), 2)), image(), method="saliency")
    with pytest.raises(InputError, match="unknown method 'deeplift'"):
        peephole.explain(Tiny(), image(), method="deeplift")


@pytest.mark.parametrize(
    ("method", "options", "message"),
    [
        ("smoothgrad", {"n_samples": -1}, r"n_samples must be a whole number in \[1, 4194304\], got -1"),  # torch's error
        ("smoothgrad", {"n_samples": 0}, r"n_samples must be a whole number in \[1, 4194304\], got 0"),
        ("smoothgrad", {"n_samples": 2**40}, r"n_samples must be a whole number in \[1, 4194304\], got 1099511627776"),
        ("smoothgrad", {"noise": float("nan")}, "noise must be a finite number >= 0, got nan"),
        ("integrated-gradients", {"n_steps": 0}, r"n_steps must be a whole number in \[1, 4194304\], got 0"),
    ],
)
def test_counts_and_noise_out_of_range_are_one_input_error_before_the_model_runs(method, options, message):
    net = Tiny()
    calls = []
    net.register_forward_hook(lambda *a: calls.append(1))
    with pytest.raises(InputError, match=message):
        peephole.explain(net, image(), method=method, **options)
    assert not calls


def test_an_integer_noise_is_a_number_like_its_float():
    """noise=0 failed Captum's assertion "stdevs must be type float" (a seeded fuzz run)."""
    a = peephole.explain(Tiny(), image(), method="smoothgrad", targets=1, n_samples=2, noise=0)
    b = peephole.explain(Tiny(), image(), method="smoothgrad", targets=1, n_samples=2, noise=0.0)
    np.testing.assert_array_equal(a.maps, b.maps)


@pytest.mark.parametrize("layer", ["fc", ""])
def test_a_gradcam_layer_without_a_feature_map_is_one_input_error(layer):
    """A linear layer (or the whole model) has no map to upsample: torch's interpolate raised a ValueError."""
    with pytest.raises(InputError, match=rf"layer '{layer}' gives activations of shape \(1, 1\), not a feature map"):
        peephole.explain(Tiny(), image(), method="gradcam", targets=1, layer=layer)


def test_registered_in_explain():
    e = peephole.explain(Tiny(), image(), method="gradcam", targets=1)
    assert e.method == "gradcam" and e.maps.shape == (1, H, W)


@pytest.mark.slow
def test_gradcam_on_the_real_torch_model_points_at_the_cat():
    from peephole.modalities.image.io import load_image

    img = load_image("skimage:chelsea", size=224)
    e = peephole.explain(peephole.load_model("efficientnet-lite0", "torch"), img, method="gradcam")
    assert "cat" in e.name(e.targets[0]).lower()
    r, c = np.unravel_index(np.argmax(e.maps[0]), e.maps[0].shape)
    assert 40 <= c <= 190 and r <= 190  # on the cat's head/body, not in a corner
