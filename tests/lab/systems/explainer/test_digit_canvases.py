"""MNIST digits pasted on textured canvases: every class's mask is exactly the ink of the digit pasted for it."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from peephole.errors import InputError
from peephole_lab.data.digit_canvases import digit_canvases, make_digit_canvases, paste
from peephole_lab.data.mnist import load_mnist


def test_paste_blends_the_colour_and_gives_the_ink_to_the_class():
    img = np.full((10, 10, 3), 0.5, np.float32)
    owner = np.full((10, 10), -1)
    alpha = np.zeros((4, 4), np.float32)
    alpha[1, 1], alpha[2, 2], alpha[3, 3] = 1.0, 0.6, 0.4
    paste(img, owner, alpha, np.array([1.0, 0.0, 0.0], np.float32), 2, 3, 7)
    assert set(zip(*np.nonzero(owner == 7))) == {(3, 4), (4, 5)}  # alpha > 0.5 only, at offset (2, 3)
    np.testing.assert_allclose(img[3, 4], [1.0, 0.0, 0.0])
    np.testing.assert_allclose(img[4, 5], [0.8, 0.2, 0.2], atol=1e-6)
    np.testing.assert_allclose(img[5, 6], [0.7, 0.3, 0.3], atol=1e-6)  # blended but not owned
    paste(img, owner, np.ones((2, 2), np.float32), np.zeros(3, np.float32), 3, 4, 2)  # drawn over: 2 owns it
    assert owner[3, 4] == 2 and owner[4, 5] == 2 and (owner == 7).sum() == 0


def test_each_mask_is_the_ink_of_the_mnist_digit_pasted_for_its_class(monkeypatch):
    """Record every paste: each pasted alpha is an MNIST digit of the class (resized), and replaying the pastes
    (later digits over earlier ones) gives exactly the canvas's masks."""
    import peephole_lab.data.digit_canvases as dc

    calls: list[tuple] = []

    def recording(img, owner, alpha, colour, y, x, cls):
        calls.append((alpha.copy(), y, x, cls))
        paste(img, owner, alpha, colour, y, x, cls)

    monkeypatch.setattr(dc, "paste", recording)
    c = make_digit_canvases(6, "val", size=48, n_digits=(2, 3), scale=(16, 24), seed=3)
    digits, labels = load_mnist("val")
    k = 0
    for i in range(len(c)):
        owner = np.full((48, 48), -1)
        for _ in range(int(c.labels[i].sum())):
            alpha, y, x, cls = calls[k]
            k += 1
            side = alpha.shape[0]
            resized = np.stack([cv2.resize(d[0], (side, side), interpolation=cv2.INTER_LINEAR) for d in digits[labels == cls]])
            assert np.abs(resized - alpha).max((1, 2)).min() == 0.0  # an MNIST digit of class cls
            owner[y : y + side, x : x + side][alpha > 0.5] = cls
        for cls in range(10):
            np.testing.assert_array_equal(c.masks[i, cls], owner == cls)
        assert c.labels[i].sum() == len(set(owner[owner >= 0].tolist()))
    assert k == len(calls)


def test_canvases_hold_two_or_three_distinct_digits_with_disjoint_masks_and_are_cached(tmp_path):
    c = digit_canvases(40, "test", cache_dir=tmp_path, size=64, seed=5)
    assert c.images.shape == (40, 3, 64, 64) and c.masks.shape == (40, 10, 64, 64)
    assert c.images.min() >= 0.0 and c.images.max() <= 1.0
    assert set(c.labels.sum(1).astype(int)) <= {2, 3}
    assert (c.masks.sum(1) <= 1).all()
    again = digit_canvases(40, "test", cache_dir=tmp_path, size=64, seed=5)  # read back from the cache
    assert len(list(tmp_path.rglob("*.npz"))) == 1
    np.testing.assert_array_equal(again.images, c.images)
    np.testing.assert_array_equal(again.masks, c.masks)
    other = make_digit_canvases(40, "test", size=64, seed=6)
    assert not np.array_equal(other.images, c.images)


@pytest.mark.parametrize(
    "kw", [{"n_digits": (0, 2)}, {"n_digits": (3, 2)}, {"scale": (4, 10)}, {"scale": (20, 80)}, {"split": "dev"}]
)
def test_bad_arguments_are_one_clear_error(kw):
    with pytest.raises(InputError):
        make_digit_canvases(2, **kw)
