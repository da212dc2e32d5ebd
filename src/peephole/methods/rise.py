"""RISE (Petsiuk et al., BMVC 2018): random upsampled grid masks, Σ f(x⊙m)·m / (N·p) (RISE, Eq. 6).

Each mask is a random ``cells×cells`` binary grid (keep probability ``p``), bilinearly upsampled to
``(cells+1)·⌈H/cells⌉`` and cropped at a random shift, so it is soft and not grid-aligned. Mask ``i`` is
drawn from its own seeded generator ``(seed, i)``: masks are made batch by batch, never all in memory,
and the map does not depend on the batch size. Masked pixels blend towards the masker's baseline
(default mid-grey: RISE multiplies the *normalised* image by the mask, i.e. blends towards the mean colour).

Eq. 6 weights each mask by its output, so where the random masks happened to keep a pixel more often its value
is higher whatever the model does (a constant model gets a map of the masks' coverage). ``centre=True`` weights
them by the output less the outputs' mean: the covariance of output and mask per pixel, which removes that term
(debiased RISE, Hatakeyama et al. ACCV 2020, subtracts the keep probability ``p`` from the masks instead, which
shifts and scales the map without changing its order).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from peephole.core.aggregate import Aggregator, WeightedSumAggregator
from peephole.core.options import require
from peephole.core.partition import MAX_FEATURES, MAX_PARTS, Partition, State, check_limit, saved_params
from peephole.core.perturb import BaselineMasker, Masker, SoftMasker
from peephole.errors import InputError
from peephole.methods.base import PerturbationMethod, Settings
from peephole.pipeline import Context


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


@dataclass(frozen=True)
class RiseOptions:
    n_masks: int = 8000  #: masks, one query each
    cells: int = 7  #: grid cells per side
    p: float = 0.5  #: the probability a cell is kept
    centre: bool = False  #: weight each mask by its output less the outputs' mean (no mask-coverage term in the map)

    def __post_init__(self) -> None:
        require("n_masks", self.n_masks, f"in [1, {MAX_PARTS}]", lambda v: 1 <= v <= MAX_PARTS)  # one query each
        require("cells", self.cells, ">= 1", lambda v: v >= 1)
        require("p", self.p, "in (0, 1]", lambda v: 0 < v <= 1)


class RiseMasks(Partition):
    """The seeded sequence of ``n_masks`` RISE masks over an H×W image (soft masks, one group)."""

    def __init__(self, shape: tuple[int, int], n_masks: int, cells: int = 7, p: float = 0.5, seed: int = 0) -> None:
        RiseOptions(n_masks, cells, p)  # checks the masks' options
        if cells > max(shape):  # a cell below a pixel: each mask's cells × cells grid would grow without bound
            raise InputError(f"cells={cells} is finer than the {shape[0]}×{shape[1]} input's pixels; use cells <= {max(shape)}")
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
        p = dict(saved_params(cls.__name__, params, shape=list, n_masks=int, cells=int, p=float, seed=int))
        shape = p.pop("shape")
        if len(shape) != 2 or not all(isinstance(n, int) and not isinstance(n, bool) and n >= 1 for n in shape):
            raise InputError(f"saved {cls.__name__}: shape {str(shape)[:80]}, expected [height, width]")
        check_limit(cls.__name__, "pixels", shape[0] * shape[1], MAX_FEATURES)
        check_limit(cls.__name__, "masks", p["n_masks"], MAX_PARTS)
        check_limit(cls.__name__, "grid cells per side", p["cells"], max(shape))
        return cls((shape[0], shape[1]), **p)


class Rise(PerturbationMethod):
    """RISE maps (``n_masks`` queries; defaults as in the RISE paper)."""

    name = "rise"
    Options = RiseOptions
    takes_partition = False

    def parts(self, ctx: Context, s: Settings, partition: None) -> Partition:
        o = s.options
        return RiseMasks(ctx.x.shape[:2], o.n_masks, o.cells, o.p, ctx.request.seed)

    def masker(self, ctx: Context, s: Settings, masker: Masker) -> Masker:
        if not isinstance(masker, BaselineMasker):
            raise InputError("RISE blends towards a baseline: use 'grey', 'black', 'blur', ... or a BaselineMasker")
        return SoftMasker(masker)

    def aggregator(self, ctx: Context, s: Settings) -> tuple[type[Aggregator], dict[str, Any]]:
        return WeightedSumAggregator, {"norm": s.options.n_masks * s.options.p, "centre": s.options.centre}
