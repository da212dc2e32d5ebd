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

    e = peephole.explain(model, img, "pami", partition=part, batch_size=7, output="logits")
    assert part.n_parts > 100
    assert max(part.requests) == 7 and sum(part.requests) == part.n_parts
    assert max(sizes) == 7 and sum(sizes) == part.n_parts + 1
    assert e.n_queries == part.n_parts + 1
    np.testing.assert_array_equal(e.params["n_parts"], part.n_parts)


def test_exact_repeats_are_queried_once_and_the_maps_do_not_change() -> None:
    from peephole.core.aggregate import Eq1Aggregator
    from peephole.core.partition import MaskPartition
    from peephole.core.perturb import BaselineMasker
    from peephole.core.query import Query
    from peephole.core.run import run

    class Zero(BaselineMasker):
        def baseline(self, x):
            return np.zeros_like(x)

    rng = np.random.default_rng(0)
    x = rng.random((6, 6, 3)).astype(np.float32)
    base = rng.random((5, 6, 6)) < 0.4
    repeated = np.concatenate([base, base[[0, 3, 3]], base[:2]])  # 10 parts, 5 distinct
    groups = np.array([0, 0, 0, 0, 0, 1, 1, 1, 2, 2])
    calls = []

    def model(batch):
        calls.append(len(batch))
        b = np.asarray(batch)
        return np.stack([b[:, :3].mean((1, 2, 3)), b[:, 3:].mean((1, 2, 3))], 1)

    q = Query(model)  # numbers as they are (what output="scores" meant)
    res = run(q, x, MaskPartition(repeated, groups), Zero(), [0, 1], batch_size=3, aggregator=Eq1Aggregator)
    assert res.n_queries == 5 and sum(calls) == 5
    direct = np.stack([model(Zero().bind(x)(m[None]))[0] for m in repeated])
    np.testing.assert_allclose(res.scores, direct, rtol=1e-6)
    from peephole.core.run import aggregate

    np.testing.assert_allclose(res.maps, aggregate(MaskPartition(repeated, groups), direct[:, [0, 1]]), rtol=1e-6)
