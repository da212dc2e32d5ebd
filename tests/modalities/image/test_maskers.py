"""Image maskers: blurred copy (reflect-padded), constants, fill image, user function."""

import numpy as np
import pytest
from conftest import textured_image

from peephole.errors import InputError
from peephole.modalities.image.maskers import BlurMasker, ConstantMasker, FillMasker, FunctionMasker


def test_blur_is_reflect_padded_not_zero_padded():
    flat = np.full((60, 80, 3), 0.8, np.float32)
    b = BlurMasker().baseline(flat)
    np.testing.assert_allclose(b, flat, atol=1e-5)  # zero padding would darken a 24-px frame


def test_blur_is_in_effect_a_49x49_mean_filter():
    img = textured_image(120, 120)
    b = BlurMasker().baseline(img)
    c = img[36:85, 36:85].mean(axis=(0, 1))  # the 49×49 window around pixel (60, 60)
    np.testing.assert_allclose(b[60, 60], c, atol=2e-3)
    assert b.std(axis=(0, 1)).max() < 0.25 * img.std(axis=(0, 1)).min()  # texture gone


def test_keep_mask_keeps_the_part_and_replaces_the_rest():
    img = textured_image(20, 30)
    keep = np.zeros((2, 20, 30), bool)
    keep[0, :5] = True
    keep[1, :, 10:] = True
    out = ConstantMasker("white").bind(img)(keep)
    assert out.shape == (2, 20, 30, 3) and out.dtype == np.float32
    np.testing.assert_array_equal(out[0, :5], img[:5])
    assert (out[0, 5:] == 1).all() and (out[1, :, :10] == 1).all()
    np.testing.assert_array_equal(out[1, :, 10:], img[:, 10:])


def test_constant_colours():
    img = textured_image(10, 10)
    assert (ConstantMasker("black").baseline(img) == 0).all()
    np.testing.assert_allclose(ConstantMasker("mean").baseline(img), img.mean(axis=(0, 1)), rtol=1e-6)
    np.testing.assert_allclose(ConstantMasker((0.1, 0.2, 0.3)).baseline(img), [0.1, 0.2, 0.3])
    with pytest.raises(InputError, match="unknown colour 'purple'"):
        ConstantMasker("purple")


def test_fill_and_function_maskers():
    img = textured_image(10, 12)
    fill = np.zeros((10, 12, 3), np.uint8)
    out = FillMasker(fill).bind(img)(np.zeros((1, 10, 12), bool))
    assert (out == 0).all()
    with pytest.raises(InputError, match="fill image has shape"):
        FillMasker(np.zeros((4, 4, 3), np.uint8)).bind(img)
    np.testing.assert_allclose(FunctionMasker(lambda x: 1 - x).baseline(img), 1 - img)
    with pytest.raises(InputError, match="masking function returned shape"):
        FunctionMasker(lambda x: x[:2]).bind(img)


def test_mask_shape_mismatch():
    with pytest.raises(InputError, match="do not match"):
        ConstantMasker().bind(textured_image(10, 10))(np.zeros((1, 9, 10), bool))


def test_bad_blur_kernel():
    with pytest.raises(InputError, match="odd"):
        BlurMasker(kernel=48)


def test_feathered_masker_fades_across_the_edge_like_a_gaussian_cdf():
    """Keep the left half: far from the edge x or b(x) exactly; across it the kept weight follows
    Φ((c − i)/σ) (the blurred step), computed here from the error function, not from OpenCV."""
    from math import erf, sqrt

    from peephole.modalities.image.maskers import FeatheredMasker

    img = textured_image(40, 80)
    keep = np.zeros((1, 40, 80), bool)
    keep[0, :, :40] = True
    sigma = 3.0
    out = FeatheredMasker("grey", sigma).bind(img)(keep)[0]
    hard = ConstantMasker("grey").bind(img)(keep)[0]
    np.testing.assert_allclose(out[:, :25], hard[:, :25], atol=1e-6)
    np.testing.assert_allclose(out[:, 55:], hard[:, 55:], atol=1e-6)
    m = (out[:, :, 0] - 0.5) / (img[:, :, 0] - 0.5)  # the kept weight, read back from one channel
    rows = np.abs(img[:, :, 0] - 0.5) > 0.05  # avoid dividing by ~0
    for col in range(34, 46):
        expected = 0.5 * (1 - erf((col + 0.5 - 40) / (sigma * sqrt(2))))
        assert abs(np.median(m[rows[:, col], col]) - expected) < 0.03, col
    # an empty and a full keep-mask are the baseline and the input (replicated borders: no fade at the frame)
    ends = FeatheredMasker("grey", sigma).bind(img)(np.stack([np.zeros((40, 80), bool), np.ones((40, 80), bool)]))
    np.testing.assert_allclose(ends[0], 0.5, atol=1e-6)
    np.testing.assert_allclose(ends[1], img, atol=1e-6)


def test_feathered_masker_bad_settings():
    from peephole.modalities.image.maskers import FeatheredMasker

    for base, sigma in (("mauve", 2.0), ("blur", 0.0), ("blur", -1.0), (object(), 2.0)):
        with pytest.raises(InputError):
            FeatheredMasker(base, sigma)
    with pytest.raises(InputError):
        FeatheredMasker("grey").bind(textured_image(10, 10))(np.ones((2, 100), bool))
