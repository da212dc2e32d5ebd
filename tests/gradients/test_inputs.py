"""What every gradient method accepts: image files as ``pathlib.Path`` (and ``str``), and only its own options."""

from __future__ import annotations

import numpy as np
import pytest

torch = pytest.importorskip("torch")
pytest.importorskip("captum")

from gradients_fixtures import FAST, H, Tiny, W, image, write_png  # noqa: E402

import peephole  # noqa: E402
from peephole.errors import InputError  # noqa: E402
from peephole.registry import METHODS  # noqa: E402

GRADIENT_METHODS = [n for n, s in METHODS.items() if s.family == "gradient"]


@pytest.fixture
def tiny_torch_cnn() -> Tiny:
    return Tiny()


def test_the_gradient_family_is_the_captum_methods_and_scorecam():
    from peephole.gradients.captum import RULES

    assert set(GRADIENT_METHODS) == set(RULES) | {"scorecam"}


@pytest.mark.parametrize("method", GRADIENT_METHODS)
def test_every_gradient_method_accepts_a_path_to_an_image_file(method, tmp_path, tiny_torch_cnn):
    path, img = write_png(tmp_path / "x.png", image())
    opts = {"targets": 1, **FAST.get(method, {})}
    from_path = peephole.explain(tiny_torch_cnn, path, method=method, **opts)
    from_array = peephole.explain(tiny_torch_cnn, img, method=method, **opts)
    np.testing.assert_allclose(from_path.input, img)
    np.testing.assert_allclose(from_path.maps, from_array.maps, rtol=1e-6)
    assert peephole.explain(tiny_torch_cnn, str(path), method=method, **opts).maps.shape == (1, H, W)


def test_unknown_options_are_refused_by_name(tiny_torch_cnn):
    with pytest.raises(InputError, match="'bogus'") as info:
        peephole.explain(tiny_torch_cnn, image(), method="gradcam", bogus=1)
    assert "layer" in str(info.value)  # the valid options are named too
