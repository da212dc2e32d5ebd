"""The segmentation task: a class's score is its mean probability over its region (predicted, or given); every
perturbation method explains it from one set of queries; bad outputs and regions are one clear error each."""

from __future__ import annotations

import numpy as np
import pytest

import peephole
from peephole.errors import InputError, ModelError, NothingToExplain
from peephole.tasks import Segmentation

#: a dark 32×32 image with a bright 12×14 square
IMAGE = np.full((32, 32, 3), 0.2, np.float32)
IMAGE[8:20, 10:24] = 0.9
SQUARE = (slice(8, 20), slice(10, 24))
NAMES = ["dark", "bright", "sky"]


def bright_logits(batch: np.ndarray, stride: int = 1) -> np.ndarray:
    """Per-pixel logits: 'bright' where a pixel is brighter than 0.5, 'dark' elsewhere, 'sky' never."""
    z = 8 * (np.asarray(batch).mean(-1) - 0.5)
    return np.stack([-z, z, np.full_like(z, -5.0)], axis=1)[:, :, ::stride, ::stride]


def explain(model=bright_logits, image=IMAGE, method="occlusion", **options):
    options.setdefault("partition", "grid") if method in ("occlusion", "pami") else None
    return peephole.explain(model, image, method, task=options.pop("task", "segmentation"), output="logits",
                            class_names=NAMES, **options)  # fmt: skip


def softmax(z: np.ndarray) -> np.ndarray:
    e = np.exp(z - z.max(axis=1, keepdims=True))
    return e / e.sum(axis=1, keepdims=True)


def test_a_class_scores_its_mean_probability_over_its_predicted_region():
    """``probabilities[k]`` is class k's softmax probability averaged over the pixels predicted k (computed by hand
    here); a class predicted nowhere scores 0; the default targets are the ``top_k`` largest regions."""
    e = explain(top_k=3)
    p = softmax(bright_logits(IMAGE[None]))[0]
    inside = np.zeros((32, 32), bool)
    inside[SQUARE] = True
    np.testing.assert_allclose(e.probabilities, [p[0][~inside].mean(), p[1][inside].mean(), 0.0], rtol=1e-6)
    assert e.targets == [0, 1]  # dark covers 856 pixels, bright 168, sky none: not a target
    np.testing.assert_array_equal(e.extras["regions"], inside.astype(np.int32))
    assert int(e.extras["region_given"]) == 0


def test_the_bright_class_rests_on_the_bright_square_for_every_perturbation_method():
    """Each perturbation method, from its one set of queries, puts more importance inside the square for 'bright'
    than the map's mean (a map of the wrong class or of no class would not)."""
    budgets = {"pami": {}, "pami-path": {"max_queries": 120}, "occlusion": {}, "lime": {"n_samples": 120},
               "kernel-shap": {"n_samples": 120}, "hsic": {"n_designs": 120}, "sobol": {"n_designs": 16},
               "rise": {"n_masks": 300}}  # fmt: skip
    for method, options in budgets.items():
        m = explain(method=method, targets="bright", seed=0, **options).maps[0]
        assert m[SQUARE].mean() > m.mean() + 0.1 * np.ptp(m), method


def test_a_given_region_scores_every_class_over_it_and_may_be_at_the_input_size():
    """``region=`` (here 32×32 for a model whose output is 8×8: resized, nearest) scores every class over that region;
    the default targets are the classes predicted inside it."""
    region = np.zeros((32, 32), bool)
    region[12:16, 12:20] = True  # inside the square
    e = explain(model=lambda b: bright_logits(b, 4), task=Segmentation(region=region), top_k=3)
    assert e.targets == [1] and e.extras["regions"].shape == (8, 8) and e.extras["regions"].sum() == 2
    assert int(e.extras["region_given"]) == 1 and e.maps.shape == (1, 32, 32)
    with pytest.raises(NothingToExplain, match="covers no pixel of the model's 8×8 output"):
        tiny = np.zeros((32, 32), bool)
        tiny[0, 0] = True  # nearest sampling at 8×8 reads pixel centres (2, 2), ...: none of them
        explain(model=lambda b: bright_logits(b, 4), task=Segmentation(region=tiny))


@pytest.mark.parametrize(
    "region, message",
    [
        (np.zeros((4, 4), bool), "region is empty"),
        (np.ones((2, 2, 2), bool), "2-D boolean"),
        (np.full((3, 3), 0.5), "2-D boolean"),
        ("mask", "2-D boolean"),
    ],
)
def test_a_bad_region_is_one_input_error(region, message):
    with pytest.raises(InputError, match=message):
        Segmentation(region=region)


def test_a_class_predicted_nowhere_has_no_region_to_explain():
    with pytest.raises(InputError, match="sky is predicted at no pixel"):
        explain(targets="sky")


@pytest.mark.parametrize(
    "model, message",
    [
        (lambda b: np.zeros((len(b), 3)), r"expected \(N, K, h, w\)"),
        (lambda b: np.full((len(b), 3, 4, 4), np.nan), "NaN or inf"),
        (lambda b: np.zeros((len(b), 3, 4 + len(b), 4)), r"returned \(3, \d+, 4\) per image on"),
        (lambda b: bright_logits(b).argmax(axis=1), "a label map"),  # one image's was read as one channel of logits
    ],
)
def test_bad_model_outputs_are_one_model_error(model, message):
    with pytest.raises(ModelError, match=message):
        explain(model=model, method="rise", n_masks=4)


def test_a_channels_last_model_gives_the_same_maps_and_a_misread_one_is_caught_by_its_class_names():
    last = lambda b: bright_logits(b).transpose(0, 2, 3, 1)  # noqa: E731 - (N, h, w, K), as TensorFlow returns
    want = explain(targets="bright")
    e = explain(model=last, task=Segmentation(channels_last=True), targets="bright")
    np.testing.assert_allclose(e.maps, want.maps, rtol=1e-6)
    assert repr(Segmentation(channels_last=True)) == "Segmentation(output='logits', channels_last=True)"
    with pytest.raises(ModelError, match="returned 32 classes per pixel but names 3"):
        explain(model=last)  # read channels-first, its rows would be its classes


def test_one_channel_is_a_foreground_against_its_background():
    """One channel of probabilities becomes [1 − p, p] per pixel (as a one-output classifier's); 'probs' out of
    range is refused."""
    fg = lambda b: (np.asarray(b).mean(-1) > 0.5)[:, None].astype(np.float64) * 0.9 + 0.05  # noqa: E731
    e = peephole.explain(fg, IMAGE, "occlusion", partition="grid", task="segmentation", output="probs", top_k=2)
    np.testing.assert_allclose(e.probabilities, [0.95, 0.95])
    assert e.targets == [0, 1]
    with pytest.raises(ModelError, match="declared to return probabilities"):
        peephole.explain(lambda b: 2 * fg(b), IMAGE, "rise", n_masks=4, task="segmentation", output="probs")


def test_the_result_keeps_its_regions_through_save_and_load_and_draws_them(tmp_path):
    e = explain(top_k=2)
    back = peephole.load(e.save(tmp_path / "seg.npz"))
    assert back.task == "segmentation" and back.targets == e.targets
    np.testing.assert_array_equal(back.extras["regions"], e.extras["regions"])
    fig = back.view.figure()
    outlined = [ax.get_title().split()[0] for ax in fig.axes if ax.collections and ax.get_title()]  # a contour each
    assert outlined == ["dark", "bright"]
    assert "Segmentation(region=(4, 4) sha1:" in repr(Segmentation(region=np.eye(4, dtype=bool)))


def test_a_batch_of_images_is_explained_image_by_image():
    es = peephole.explain(bright_logits, [IMAGE, IMAGE[::-1]], "occlusion", partition="grid", task="segmentation",
                          output="logits", targets=[1])  # fmt: skip
    assert len(es) == 2 and es[1].maps[0][12:24, 10:24].mean() > es[1].maps[0].mean()


def test_gradient_methods_say_they_explain_classification_only():
    with pytest.raises(InputError, match="explains classification only"):
        explain(method="saliency")


def test_a_run_reports_picture_outlines_the_class_region():
    """The run report's class picture (the image modality's ``report_view``) draws the region's edge in white: the
    bright square's border pixels, not its inside."""
    from peephole.modalities import get_modality

    e = explain(targets="bright")
    picture = get_modality("image").report_view(e, 1)
    white = (picture == 255).all(axis=-1)
    assert white[8, 12:22].all() and white[19, 12:22].all() and white[10:18, 10].all()  # top, bottom, left edges
    assert not white[10:18, 12:22].any() and not white[:6].any()


def many_classes(batch: np.ndarray) -> np.ndarray:
    """40 classes at each pixel of a 128×128 output (ADE20K-like): about 21 MB of float32 per batch of 8."""
    x = np.asarray(batch, np.float32).mean(-1)[:, ::1, ::1]
    big = np.repeat(np.repeat(x, 4, axis=1), 4, axis=2)[:, :128, :128]
    return np.stack([big * (k % 7) for k in range(40)], axis=1)


def explain_many_classes() -> tuple:
    e = peephole.explain(many_classes, IMAGE, "rise", task="segmentation", output="logits", n_masks=16, batch_size=8)
    return e.maps.shape, e.extras["regions"].shape


def test_many_classes_at_many_pixels_stay_within_memory():
    """A batch's scores are computed image by image: with the whole batch's softmax at once the explanation needed
    150–170 MB here (measured: it failed under 150); now it runs under 70 MB, checked at 110."""
    from isolation import isolated

    explain_many_classes()  # lazy imports before the cap
    assert isolated(explain_many_classes, memory=110 << 20, timeout=120) == ("ok", ((1, 32, 32), (128, 128)))
