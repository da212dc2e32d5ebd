"""Reading images: documented conversions and one clear error per bad file."""

import numpy as np
import pytest
from PIL import Image

from peephole.errors import InputError
from peephole.modalities.image.io import load_image, resize, to_rgb_float
from peephole.modalities.image.samples import SAMPLES, sample_image


def test_grayscale_rgba_and_16_bit_files(tmp_path):
    rng = np.random.default_rng(0)
    gray = (rng.random((20, 30)) * 255).astype(np.uint8)
    Image.fromarray(gray).save(tmp_path / "g.png")
    x = load_image(tmp_path / "g.png")
    assert x.shape == (20, 30, 3) and x.dtype == np.float32
    np.testing.assert_allclose(x[..., 1], gray / 255, atol=1e-6)

    rgba = (rng.random((20, 30, 4)) * 255).astype(np.uint8)
    Image.fromarray(rgba, "RGBA").save(tmp_path / "a.png")
    np.testing.assert_allclose(load_image(tmp_path / "a.png"), rgba[..., :3] / 255, atol=1e-6)  # alpha dropped

    g16 = (rng.random((20, 30)) * 65535).astype(np.uint16)
    Image.fromarray(g16).save(tmp_path / "g16.png")
    np.testing.assert_allclose(load_image(tmp_path / "g16.png")[..., 0], g16 / 65535, atol=1e-6)


def test_array_conversions():
    assert to_rgb_float(np.zeros((4, 5), np.uint16)).shape == (4, 5, 3)
    assert to_rgb_float(np.ones((4, 5, 1), bool)).max() == 1
    np.testing.assert_allclose(to_rgb_float(np.full((2, 2, 3), 65535, np.uint16)), 1.0)
    with pytest.raises(InputError, match=r"float pixels must lie in \[0, 1\]"):
        to_rgb_float(np.full((4, 4, 3), 255.0))
    with pytest.raises(InputError, match="NaN"):
        to_rgb_float(np.full((4, 4, 3), np.nan))
    with pytest.raises(InputError, match="expected H×W"):
        to_rgb_float(np.zeros((4, 4, 5)))
    with pytest.raises(InputError, match="no pixels"):
        to_rgb_float(np.zeros((0, 4, 3)))
    with pytest.raises(InputError, match="unsupported pixel type"):
        to_rgb_float(np.zeros((4, 4, 3), np.int64))


def test_bad_files(tmp_path):
    with pytest.raises(InputError, match="no such file"):
        load_image(tmp_path / "missing.jpg")
    (tmp_path / "notes.txt").write_text("not an image")
    with pytest.raises(InputError, match="not an image file"):
        load_image(tmp_path / "notes.txt")
    Image.fromarray(np.zeros((64, 64, 3), np.uint8)).save(tmp_path / "ok.jpg")
    data = (tmp_path / "ok.jpg").read_bytes()
    (tmp_path / "truncated.jpg").write_bytes(data[: len(data) // 3])
    with pytest.raises(InputError, match="corrupt or truncated"):
        load_image(tmp_path / "truncated.jpg")
    with pytest.raises(InputError, match="is a directory"):
        load_image(tmp_path)


def test_resize_and_crop():
    img = np.random.default_rng(0).random((300, 451, 3)).astype(np.float32)
    assert resize(img, 224).shape == (224, 224, 3)
    assert resize(img, 224, crop=False).shape == (224, 337, 3)


@pytest.mark.parametrize("spec", SAMPLES)
def test_shipped_photos(spec):
    img = sample_image(spec)
    assert img.ndim == 3 and img.shape[2] == 3 and img.dtype == np.uint8 and min(img.shape[:2]) >= 200
    with pytest.raises(InputError, match="unknown sample photo"):
        sample_image("skimage:unicorn")
