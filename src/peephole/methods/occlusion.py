"""Occlusion (Zeiler & Fergus, ECCV 2014) on the engine loop: hide one window, measure the drop.

The exact opposite of PAMI Strategy I: the same sliding windows, but each query *hides* its window
(the complement is kept) and the map is the mean drop ``f_k(x) − f_k(x without window)`` over the
windows covering a pixel. The hidden pixels take the masker's values (default: PAMI's blur, so the
only difference from PAMI Strategy I is keep-the-part versus hide-the-part).
"""

from __future__ import annotations

from collections.abc import Sequence
from time import perf_counter
from typing import Any

import numpy as np

from peephole.engine.partition import Partition
from peephole.engine.perturb import Masker
from peephole.engine.run import run
from peephole.explanation import Explanation
from peephole.image.windows import SlidingWindows
from peephole.methods.pami import make_masker
from peephole.methods.setup import prepare


class Complement(Partition):
    """The parts of ``inner`` turned inside out: part j keeps everything but ``inner``'s part j."""

    def __init__(self, inner: Partition) -> None:
        self.inner, self.shape = inner, inner.shape

    @property
    def n_parts(self) -> int:
        return self.inner.n_parts

    @property
    def groups(self) -> np.ndarray:
        return self.inner.groups

    def masks(self, start: int, stop: int) -> np.ndarray:
        return ~self.inner.masks(start, stop)


class OcclusionAggregator:
    """Per pixel: mean of ``f_k(x) − f_k(x_j)`` over the hidden windows j that cover it (0 if none)."""

    def __init__(self, shape: tuple[int, ...], n_targets: int, reference: np.ndarray) -> None:
        n = int(np.prod(shape))
        self.shape, self.reference = shape, np.asarray(reference, np.float32)
        self.sums, self.counts = np.zeros((n_targets, n)), np.zeros(n)

    def add(self, masks: np.ndarray, scores: np.ndarray, groups: np.ndarray) -> None:
        hidden = (~masks).reshape(len(masks), -1).astype(np.float32)
        self.sums += (self.reference[None] - np.asarray(scores, np.float32)).T @ hidden
        self.counts += hidden.sum(axis=0)

    def maps(self) -> np.ndarray:
        m = np.where(self.counts > 0, self.sums / np.maximum(self.counts, 1), 0.0)
        return m.reshape((-1, *self.shape)).astype(np.float32)


def occlusion(
    model: Any,
    image: Any,
    radius: int = 40,
    stride: int = 6,
    window: str = "circle",
    masker: str | Masker = "blur",
    targets: int | Sequence[int] | None = None,
    top_k: int = 1,
    batch_size: int | None = None,
    progress: bool = False,
    output: str | None = None,
) -> Explanation:
    """Explain ``model`` on ``image`` by occluding sliding windows (one query per window)."""
    t0 = perf_counter()
    s = prepare(model, image, targets, top_k, batch_size, output)
    h, w = s.image.shape[:2]
    part = Complement(SlidingWindows(h, w, radius=radius, stride=stride, shape=window))
    ref = s.probabilities[s.targets]
    res = run(
        s.query,
        s.image,
        part,
        make_masker(masker),
        s.targets,
        s.batch_size,
        progress,
        aggregator=lambda sh, g, k: OcclusionAggregator(sh, k, ref),
        desc="Occlusion",
    )
    return s.explanation(
        Explanation,
        "occlusion",
        s.image,
        res.maps,
        res.scores,
        timings={**res.timings, "total": perf_counter() - t0},
        params={
            "radius": radius,
            "stride": stride,
            "window": window,
            "batch_size": s.batch_size,
            "masker": masker if isinstance(masker, str) else type(masker).__name__,
        },
    )
