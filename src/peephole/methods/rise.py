"""RISE (Petsiuk et al., BMVC 2018): random upsampled grid masks, Σ f(x⊙m)·m / (N·p) (RISE, Eq. 6).

Each mask is a random ``cells×cells`` binary grid (keep probability ``p``), bilinearly upsampled to
``(cells+1)·⌈H/cells⌉`` and cropped at a random shift, so it is soft and not grid-aligned. Mask ``i`` is
drawn from its own seeded generator ``(seed, i)``: masks are made batch by batch, never all in memory,
and the map does not depend on the batch size. Masked pixels blend towards the masker's baseline
(default mid-grey: RISE multiplies the *normalised* image by the mask, i.e. blends towards the mean colour).
"""

from __future__ import annotations

from time import perf_counter
from typing import Any

import numpy as np

from peephole.core.aggregate import WeightedSumAggregator
from peephole.core.partition import Partition, State
from peephole.core.perturb import BaselineMasker, SoftMasker
from peephole.core.run import run
from peephole.errors import InputError
from peephole.pipeline import Request, prepare
from peephole.result import Explanation


def rise_masks(shape: tuple[int, int], start: int, stop: int, cells: int = 7, p: float = 0.5, seed: int = 0) -> np.ndarray:
    """Masks ``start..stop-1`` (float32, ``(stop-start, H, W)``) of the seeded RISE sequence."""
    import cv2

    h, w = shape
    ch, cw = -(-h // cells), -(-w // cells)
    out = np.empty((stop - start, h, w), np.float32)
    for j, i in enumerate(range(start, stop)):
        rng = np.random.default_rng([seed, i])
        grid = (rng.random((cells, cells)) < p).astype(np.float32)
        up = cv2.resize(grid, ((cells + 1) * cw, (cells + 1) * ch), interpolation=cv2.INTER_LINEAR)
        dy, dx = int(rng.integers(ch)), int(rng.integers(cw))
        out[j] = up[dy : dy + h, dx : dx + w]
    return out


class RiseMasks(Partition):
    """The seeded sequence of ``n_masks`` RISE masks over an H×W image (soft masks, one group)."""

    def __init__(self, shape: tuple[int, int], n_masks: int, cells: int = 7, p: float = 0.5, seed: int = 0) -> None:
        if n_masks < 1 or cells < 1 or not 0 < p <= 1:
            raise InputError(f"RISE needs n_masks >= 1, cells >= 1 and 0 < p <= 1; got {n_masks}, {cells}, {p}")
        self.shape, self.n_masks, self.cells, self.p, self.seed = tuple(shape), int(n_masks), int(cells), float(p), int(seed)

    @property
    def n_parts(self) -> int:
        return self.n_masks

    def masks(self, start: int, stop: int) -> np.ndarray:
        return rise_masks(self.shape, start, stop, self.cells, self.p, self.seed)  # type: ignore[arg-type]

    def state(self) -> State:
        return {"shape": list(self.shape), "n_masks": self.n_masks, "cells": self.cells, "p": self.p, "seed": self.seed}, {}

    @classmethod
    def from_state(cls, params: dict[str, Any], arrays: dict[str, np.ndarray]) -> RiseMasks:
        return cls(tuple(params.pop("shape")), **params)  # type: ignore[arg-type]


def rise(req: Request, n_masks: int = 8000, cells: int = 7, p: float = 0.5, masker: Any = "grey") -> Explanation:
    """RISE maps (``n_masks`` queries; defaults as in the RISE paper)."""
    t0 = perf_counter()
    ctx = prepare(req)
    base = ctx.modality.masker(masker)
    if not isinstance(base, BaselineMasker):
        raise InputError("RISE blends towards a baseline: use 'grey', 'black', 'blur', ... or a BaselineMasker")
    part = RiseMasks(ctx.x.shape[:2], n_masks, cells, p, req.seed)
    res = run(
        ctx.query,
        ctx.x,
        part,
        SoftMasker(base),
        ctx.targets,
        ctx.batch_size,
        req.progress,
        WeightedSumAggregator,
        {"norm": n_masks * p},
        desc="RISE",
    )
    return ctx.explanation(
        "rise",
        res.maps,
        res.scores,
        partition=part,
        aggregator=res.aggregator,
        timings={**res.timings, "total": perf_counter() - t0},
        params={
            "n_masks": n_masks,
            "cells": cells,
            "p": p,
            "seed": req.seed,
            "batch_size": ctx.batch_size,
            "masker": masker if isinstance(masker, str) else type(base).__name__,
        },
    )
