"""Insertion / deletion curves with hand-checkable answers on a synthetic black box."""

from __future__ import annotations

import numpy as np
import pytest

from peephole.errors import InputError
from peephole.metrics import centre_gaussian_map, deletion, insertion, pixel_order, random_map
from peephole.metrics.curves import default_step
from peephole.modalities.image.maskers import BlurMasker, ConstantMasker

H = W = 16
REGION = (slice(4, 8), slice(2, 10))  # 32 pixels of 256


class RestoredFraction:
    """p(class 1) = fraction of REGION pixels that show the white image (channel 0 == 1)."""

    output = "probs"
    class_names = None
    preferred_batch_size = None

    def __init__(self) -> None:
        self.calls = 0

    def __call__(self, batch: np.ndarray) -> np.ndarray:
        self.calls += 1
        p = (np.asarray(batch)[:, REGION[0], REGION[1], 0] == 1.0).mean(axis=(1, 2))
        return np.stack([1 - p, p], axis=1)


def perfect_map() -> np.ndarray:
    m = np.zeros((H, W), np.float32)
    m[REGION] = 1.0
    return m


WHITE = np.ones((H, W, 3), np.float32)


def test_insertion_of_a_perfect_map_follows_the_restored_fraction():
    c = insertion(RestoredFraction(), WHITE, perfect_map(), 1, step=8, masker=ConstantMasker("black"))
    assert len(c.fractions) == 256 // 8 + 1
    np.testing.assert_allclose(c.probabilities, np.minimum(8 * np.arange(33) / 32, 1.0))
    assert c.auc == pytest.approx(1 - 32 / (2 * 256))  # ramp over the first 32 pixels, then 1


def test_deletion_of_a_random_map_lies_between_best_and_worst_orderings():
    model, black = RestoredFraction(), ConstantMasker("black")
    best = deletion(model, WHITE, perfect_map(), 1, step=8, masker=black).auc
    worst = deletion(model, WHITE, -perfect_map(), 1, step=8, masker=black).auc
    rnd = [deletion(model, WHITE, random_map((H, W), seed=s), 1, step=8, masker=black).auc for s in range(5)]
    assert best == pytest.approx(32 / (2 * 256))
    assert worst == pytest.approx(1 - 32 / (2 * 256))
    assert all(best < r < worst for r in rnd)
    assert np.mean(rnd) == pytest.approx(0.5, abs=0.1)


def test_default_start_images_are_the_blur_and_mid_grey():
    rng = np.random.default_rng(0)
    img = rng.random((H, W, 3)).astype(np.float32)

    class Mean:
        output, class_names, preferred_batch_size = "scores", None, None

        def __call__(self, b):
            return np.asarray(b)[:, REGION[0], REGION[1], 0].mean(axis=(1, 2))[:, None]

    ins = insertion(Mean(), img, perfect_map(), 0, step=8)
    blurred = BlurMasker().baseline(img)
    assert ins.probabilities[0] == pytest.approx(float(blurred[REGION][..., 0].mean()), rel=1e-5)
    assert ins.probabilities[-1] == pytest.approx(float(img[REGION][..., 0].mean()), rel=1e-5)
    dele = deletion(Mean(), img, perfect_map(), 0, step=8)
    assert dele.probabilities[-1] == pytest.approx(0.5)


def test_curve_images_are_batched_and_the_batch_size_does_not_matter():
    model = RestoredFraction()
    a = insertion(model, WHITE, random_map((H, W)), 1, step=8, masker=ConstantMasker("black"), batch_size=1)
    calls = model.calls
    b = insertion(model, WHITE, random_map((H, W)), 1, step=8, masker=ConstantMasker("black"), batch_size=11)
    np.testing.assert_array_equal(a.probabilities, b.probabilities)
    assert a.n_queries == b.n_queries == 33
    assert model.calls - calls == 3  # 33 curve images in batches of 11


def test_ties_are_broken_in_row_major_order_and_steps_scale_with_size():
    np.testing.assert_array_equal(pixel_order(np.zeros((3, 4))), np.arange(12))
    assert default_step((224, 224)) == 224 and default_step((112, 112)) == 56
    c = insertion(RestoredFraction(), WHITE, perfect_map(), 1, step=100, masker=ConstantMasker("black"))
    np.testing.assert_allclose(c.fractions, [0, 100 / 256, 200 / 256, 1])  # the last step is partial


def test_reference_maps():
    g = centre_gaussian_map((21, 31))
    assert np.unravel_index(np.argmax(g), g.shape) == (10, 15)
    np.testing.assert_array_equal(random_map((5, 5), seed=3), random_map((5, 5), seed=3))
    assert not np.array_equal(random_map((5, 5), seed=3), random_map((5, 5), seed=4))


def test_bad_inputs_get_one_clear_error():
    with pytest.raises(InputError, match="does not match"):
        insertion(RestoredFraction(), WHITE, np.zeros((4, 4)), 1)
    with pytest.raises(InputError, match="NaN"):
        insertion(RestoredFraction(), WHITE, np.full((H, W), np.nan), 1)
    with pytest.raises(InputError, match="mode"):
        from peephole.metrics import perturbation_curve

        perturbation_curve(RestoredFraction(), WHITE, perfect_map(), 1, "sideways")


@pytest.mark.slow
def test_on_the_real_model_a_centred_map_beats_a_random_one_on_a_centred_cat(real_model):
    from peephole.modalities.image.io import load_image

    img = load_image("skimage:chelsea", size=224)
    target = int(np.argmax(real_model(img[None])[0]))
    centre = insertion(real_model, img, centre_gaussian_map((224, 224)), target, step=896)
    rnd = insertion(real_model, img, random_map((224, 224)), target, step=896)
    assert len(centre.fractions) == 57 and centre.n_queries == 57
    assert centre.auc > rnd.auc + 0.1
    assert centre.probabilities[-1] == pytest.approx(
        float(np.exp(real_model(img[None])[0][target]) / np.exp(real_model(img[None])[0]).sum()), rel=1e-4
    )
