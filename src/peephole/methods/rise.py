"""RISE (Petsiuk et al., BMVC 2018) on the engine loop: random upsampled grid masks, Σ f(x⊙m)·m / (N·p).

Each mask is a random ``cells×cells`` binary grid (keep probability ``p``), bilinearly upsampled to
``(cells+1)·⌈H/cells⌉`` and cropped at a random shift, so it is soft and not grid-aligned. Mask ``i`` is
drawn from its own seeded generator ``(seed, i)``: masks are made batch by batch, never all in memory,
and the map does not depend on the batch size. Masked pixels blend towards a baseline (default
mid-grey: RISE multiplies the *normalised* image by the mask, i.e. blends towards the mean colour).
"""

from __future__ import annotations

from collections.abc import Sequence
from time import perf_counter
from typing import Any

import numpy as np

from peephole.engine.perturb import BaselineMasker
from peephole.engine.run import run
from peephole.errors import InputError
from peephole.explanation import Explanation
from peephole.methods.pami import make_masker
from peephole.methods.setup import prepare
from peephole.methods.soft_masks import FunctionPartition, SoftMasker


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


class RiseAggregator:
    """Σ_i f_k(x⊙m_i)·m_i / (N·p) (RISE, Eq. 6), accumulated batch by batch."""

    def __init__(self, shape: tuple[int, ...], n_targets: int, n_masks: int, p: float) -> None:
        self.shape, self.norm = shape, n_masks * p
        self.sums = np.zeros((n_targets, int(np.prod(shape))), np.float64)

    def add(self, masks: np.ndarray, scores: np.ndarray, groups: np.ndarray) -> None:
        self.sums += np.asarray(scores, np.float32).T @ masks.reshape(len(masks), -1).astype(np.float32)

    def maps(self) -> np.ndarray:
        return (self.sums / self.norm).reshape((-1, *self.shape)).astype(np.float32)


def rise(
    model: Any,
    image: Any,
    n_masks: int = 8000,
    cells: int = 7,
    p: float = 0.5,
    masker: str | BaselineMasker = "grey",
    targets: int | Sequence[int] | None = None,
    top_k: int = 1,
    batch_size: int | None = None,
    seed: int = 0,
    progress: bool = False,
    output: str | None = None,
) -> Explanation:
    """Explain ``model`` on ``image`` with RISE (``n_masks`` queries; defaults as in the RISE paper)."""
    if n_masks < 1 or cells < 1 or not 0 < p <= 1:
        raise InputError(f"RISE needs n_masks >= 1, cells >= 1 and 0 < p <= 1; got {n_masks}, {cells}, {p}")
    base = make_masker(masker)
    if not isinstance(base, BaselineMasker):
        raise InputError("RISE blends towards a baseline: use 'grey', 'black', 'blur', ... or a BaselineMasker")
    t0 = perf_counter()
    s = prepare(model, image, targets, top_k, batch_size, output)
    shape = s.image.shape[:2]
    part = FunctionPartition(shape, n_masks, lambda a, b: rise_masks(shape, a, b, cells, p, seed))
    res = run(
        s.query,
        s.image,
        part,
        SoftMasker(base),
        s.targets,
        s.batch_size,
        progress,
        aggregator=lambda sh, g, k: RiseAggregator(sh, k, n_masks, p),
        desc="RISE",
    )
    return s.explanation(
        Explanation,
        "rise",
        s.image,
        res.maps,
        res.scores,
        timings={**res.timings, "total": perf_counter() - t0},
        params={
            "n_masks": n_masks,
            "cells": cells,
            "p": p,
            "seed": seed,
            "batch_size": s.batch_size,
            "masker": masker if isinstance(masker, str) else type(base).__name__,
        },
    )
