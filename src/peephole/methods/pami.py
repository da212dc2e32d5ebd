"""PAMI (Shi et al., Pattern Recognition 2024): keep ONE part, mask the rest, query, aggregate by Eq. 1.

Runs on any modality: the modality names the partitions (images: windows = Strategy I, superpixels =
Strategy II; texts: words, windows, phrases; sequences: windows, single positions, feature groups)
and the maskers (images: the 49×49 σ=100 blur; texts: drop the words; sequences: a baseline value).
"""

from __future__ import annotations

from dataclasses import dataclass
from time import perf_counter

import numpy as np

from peephole.core.options import require
from peephole.core.partition import Partition, near_repeats
from peephole.core.perturb import BoundOnce, Masker
from peephole.core.run import run
from peephole.errors import InputError
from peephole.methods.base import Outcome, PerturbationMethod, Settings
from peephole.methods.pami_adaptive import adaptive
from peephole.pipeline import Context


@dataclass(frozen=True)
class PamiOptions:
    """``second_run`` (images): segment each first-run map with the same segmenters and run PAMI again on the
    image with those parts (one more set of queries per target; ``first_run_maps`` keeps run 1).

    ``max_queries`` and/or ``tolerance``: adaptive PAMI, coarse to fine (:mod:`peephole.methods.pami_adaptive`),
    ``coarse_share`` of the budget on whole groups first; ``e.partition`` is the parts used.

    ``merge_iou`` (first run): a part that overlaps an earlier, queried part of another group with
    IoU ≥ ``merge_iou`` (a near-repeat across segmentations) is not queried; Eq. 1 uses that part's
    output with the near-repeat's own mask (see docs/pami.md for what it costs in map quality)."""

    second_run: bool = False  #: segment each first-run map and run PAMI again (images; not recommended)
    max_queries: int | None = None  #: adaptive PAMI's budget, the unperturbed input included
    tolerance: float | None = None  #: adaptive PAMI stops when a group changes the map by less (relative L2)
    coarse_share: float = 0.35  #: share of ``max_queries`` spent on whole groups before single parts
    merge_iou: float | None = None  #: query a part that repeats another group's part at this IoU only once

    def __post_init__(self) -> None:
        if self.max_queries is not None:
            require("max_queries", self.max_queries, ">= 2 (the unperturbed input and one part)", lambda v: v >= 2)
        if self.tolerance is not None:
            require("tolerance", self.tolerance, "> 0", lambda v: v > 0)
        require("coarse_share", self.coarse_share, "in (0, 1]", lambda v: 0 < v <= 1)
        if self.merge_iou is not None:
            if self.adaptive:
                raise InputError("merge_iou applies to a full run; leave it out with max_queries / tolerance")
            require("merge_iou", self.merge_iou, "in (0, 1]", lambda v: 0 < v <= 1)

    @property
    def adaptive(self) -> bool:
        return self.max_queries is not None or self.tolerance is not None


class Pami(PerturbationMethod):
    """PAMI maps of the targets from ONE set of queries (Eq. 1); every part's output is kept."""

    name = "pami"
    Options = PamiOptions

    def maps(self, ctx: Context, s: Settings, parts: Partition, masker: Masker) -> Outcome:
        o = s.options
        if o.adaptive:
            parts, first = adaptive(ctx, parts, BoundOnce(masker, ctx.x), o.max_queries, o.tolerance, o.coarse_share)
        else:
            reuse = None if o.merge_iou is None else near_repeats(parts, o.merge_iou)
            args = (ctx.query, ctx.x, parts, masker, ctx.targets, ctx.batch_size, ctx.request.progress)
            first = run(*args, desc="PAMI run 1", reuse=reuse)
        out = Outcome(first.maps, first.scores, dict(first.timings), parts, first.aggregator)
        if o.second_run:
            t0 = perf_counter()
            out.first_run_maps = first.maps
            out.maps = np.stack([self.second(ctx, s, masker, t, m) for t, m in zip(ctx.targets, first.maps)])
            out.timings["second_run"] = perf_counter() - t0
        return out

    def second(self, ctx: Context, s: Settings, masker: Masker, target: int, first: np.ndarray) -> np.ndarray:
        """The second run's map of ``target``: PAMI over the segments of its first-run map."""
        parts = ctx.modality.refine(ctx.x, first, ctx.request.seed, s.partition_options)
        args = (ctx.query, ctx.x, parts, masker, [target], ctx.batch_size, ctx.request.progress)
        return run(*args, desc=f"PAMI run 2, class {target}").maps[0]
