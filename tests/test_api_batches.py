"""``peephole.explain`` on several images: one result per image, their queries packed into shared model calls, each
map the one the image gets alone; one image's failure is its own."""

from __future__ import annotations

import numpy as np
import pytest

import peephole
from peephole.errors import InputError, ModelError
from tests.fixtures.tiny_inputs import image_fn

IMAGES = [np.random.default_rng(i).random((32, 32, 3)).astype(np.float32) for i in range(16)]
WINDOWS = {"method": "pami", "partition": "window", "radius": 8, "stride": 8, "masker": "black", "output": "probs"}


class Counted:
    """``image_fn`` counting its calls and the rows of each."""

    def __init__(self, strict_size: int | None = None) -> None:
        self.calls: list[int] = []
        self.strict_size = strict_size

    def __call__(self, batch):
        if self.strict_size is not None and np.shape(batch)[1] != self.strict_size:
            raise ValueError(f"this model takes {self.strict_size}×{self.strict_size} images")
        self.calls.append(len(batch))
        return image_fn(batch)


@pytest.mark.parametrize(
    "options",
    [WINDOWS, {"method": "pami-path", "n_samples": 12, "max_queries": 40, "output": "probs"}, {"method": "rise", "n_masks": 20}],
    ids=["pami", "pami-path", "rise"],
)
def test_a_batch_of_16_images_runs_in_one_call_with_queries_packed_across_images(options):
    options = {"output": "probs", **options}
    packed = Counted()
    got = peephole.explain(packed, IMAGES, seed=3, batch_size=64, **options)
    alone = Counted()
    want = [peephole.explain(alone, im, seed=3, batch_size=64, **options) for im in IMAGES]
    assert len(got) == 16 and all(isinstance(e, peephole.Explanation) for e in got)
    # queries of several images share model calls (how many depends on thread timing: a call goes when every image
    # waits, or when 64 rows wait)
    assert len(packed.calls) < len(alone.calls) and max(packed.calls) > max(alone.calls)
    assert sum(packed.calls) == sum(alone.calls) == sum(e.n_queries for e in want)  # the same queries, no more
    assert max(packed.calls) <= 64  # never more than batch_size per call
    for g, w in zip(got, want):
        np.testing.assert_array_equal(g.maps, w.maps)
        assert g.n_queries == w.n_queries and g.targets == w.targets


def test_batches_as_arrays_and_tensors_in_either_channel_order_give_the_list_results():
    torch = pytest.importorskip("torch")
    want = peephole.explain(image_fn, IMAGES[:4], **WINDOWS)
    nhwc = np.stack(IMAGES[:4])
    for batch in (nhwc, nhwc.transpose(0, 3, 1, 2), torch.from_numpy(nhwc), torch.from_numpy(nhwc).permute(0, 3, 1, 2)):
        got = peephole.explain(image_fn, batch, **WINDOWS)
        assert [g.maps.tolist() for g in got] == [w.maps.tolist() for w in want]
    one = peephole.explain(image_fn, torch.from_numpy(IMAGES[0]).permute(2, 0, 1), **WINDOWS)  # one C×H×W tensor
    np.testing.assert_array_equal(one.maps, want[0].maps)


def test_shapes_that_are_no_image_say_which_channel_orders_are_read():
    with pytest.raises(InputError, match=r"N×H×W×C \(channels last; C = 1, 3 or 4\) or N×C×H×W \(channels first"):
        peephole.explain(image_fn, np.zeros((2, 5, 32, 32), np.float32), **WINDOWS)
    with pytest.raises(InputError, match=r"C×H×W \(channels first; C = 1 or 3\), got shape \(5, 32, 32\)"):
        peephole.explain(image_fn, np.zeros((5, 32, 32), np.float32), **WINDOWS)


def test_one_images_failure_is_its_own_and_the_others_go_through(tmp_path):
    model = Counted(strict_size=32)
    small = np.random.default_rng(9).random((24, 24, 3)).astype(np.float32)
    batch = [IMAGES[0], small, str(tmp_path / "missing.png"), IMAGES[1], np.full((32, 32, 3), np.nan, np.float32)]
    got = peephole.explain(model, batch, **WINDOWS)
    assert isinstance(got[1], ModelError) and "this model takes 32×32 images" in str(got[1])
    assert isinstance(got[2], InputError) and "missing.png" in str(got[2])
    assert isinstance(got[4], InputError) and "NaN" in str(got[4])
    for i in (0, 3):
        np.testing.assert_array_equal(got[i].maps, peephole.explain(image_fn, IMAGES[[0, 3].index(i)], **WINDOWS).maps)


def test_gradient_methods_explain_a_batch_one_image_after_another():
    torch = pytest.importorskip("torch")
    pytest.importorskip("captum")
    torch.manual_seed(0)
    net = torch.nn.Sequential(torch.nn.Conv2d(3, 2, 3, padding=1), torch.nn.AdaptiveAvgPool2d(1), torch.nn.Flatten())
    got = peephole.explain(net, IMAGES[:3], "saliency", output="logits")
    for g, im in zip(got, IMAGES[:3]):
        np.testing.assert_array_equal(g.maps, peephole.explain(net, im, "saliency", output="logits").maps)


def test_a_batch_explained_by_a_plain_callable_detector_gives_each_image_its_boxes_maps():
    """task='detection' with a plain callable: a batch asked the callable to declare output= (the task's detector
    adapter was applied to one image only); an image without boxes is skipped on its own."""

    def bright_square(batch):
        out = []
        for x in batch:
            found = float(x[4:16, 4:16].mean()) > 0.05
            out.append({"boxes": np.array([[4.0, 4.0, 16.0, 16.0]] * found), "scores": np.array([x[4:16, 4:16].mean()] * found)})
        return out

    images = [IMAGES[0], np.zeros((32, 32, 3), np.float32), IMAGES[2]]
    got = peephole.explain(bright_square, images, "rise", task="detection", n_masks=8, seed=1)
    assert isinstance(got[1], peephole.NothingToExplain)
    for i in (0, 2):
        alone = peephole.explain(bright_square, images[i], "rise", task="detection", n_masks=8, seed=1)
        assert got[i].task == "detection" and np.array_equal(got[i].maps, alone.maps)
        np.testing.assert_array_equal(got[i].extras["boxes"], alone.extras["boxes"])
