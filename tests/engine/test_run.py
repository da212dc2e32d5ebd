"""Streaming: masks are built batch by batch; no request ever exceeds the batch size."""

import numpy as np
from conftest import RegionModel, textured_image

import peephole
from peephole.modalities.image.windows import SlidingWindows


class CountingWindows(SlidingWindows):
    def __init__(self, *a, **kw):
        super().__init__(*a, **kw)
        self.requests = []

    def masks(self, start, stop):
        self.requests.append(stop - start)
        return super().masks(start, stop)


def test_masks_and_model_batches_are_bounded_by_the_batch_size():
    img = textured_image(64, 64)
    part = CountingWindows(64, 64, radius=10, stride=3)
    sizes = []
    inner = RegionModel((slice(0, 10), slice(0, 10)))

    def model(batch):
        sizes.append(len(batch))
        return inner(batch)

    e = peephole.explain(model, img, partition=part, batch_size=7, output="logits")
    assert part.n_parts > 100
    assert max(part.requests) == 7 and sum(part.requests) == part.n_parts
    assert max(sizes) == 7 and sum(sizes) == part.n_parts + 1
    assert e.n_queries == part.n_parts + 1
    np.testing.assert_array_equal(e.params["n_parts"], part.n_parts)
