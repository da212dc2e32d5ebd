"""PAMI (Shi et al., Pattern Recognition 2024): keep ONE part, mask the rest, query, aggregate by Eq. 1.

Runs on any modality: the modality names the partitions (images: windows = Strategy I, superpixels =
Strategy II; texts: words, windows, phrases; sequences: windows, single positions, feature groups)
and the maskers (images: the 49×49 σ=100 blur; texts: drop the words; sequences: a baseline value).
"""

from __future__ import annotations

from time import perf_counter
from typing import Any

import numpy as np

from peephole.engine.prepare import Request, prepare
from peephole.engine.run import run
from peephole.explanation import Explanation


def pami(
    req: Request, partition: Any = None, masker: Any = None, second_run: bool = False, **partition_options: Any
) -> Explanation:
    """PAMI maps of the targets from ONE set of queries (Eq. 1); every part's output is kept.

    ``partition`` / ``masker``: a name the modality knows, or an object (default: the modality's).
    ``second_run`` (images): segment each first-run map with the same segmenters and run PAMI again
    on the image with those parts (one more set of queries per target; ``first_run_maps`` keeps run 1).
    """
    t0 = perf_counter()
    ctx = prepare(req)
    mod = ctx.modality
    tp = perf_counter()
    part = mod.partition(ctx.x, mod.default_partition if partition is None else partition, req.seed, **partition_options)
    t_segment = perf_counter() - tp
    mask = mod.masker(mod.default_masker if masker is None else masker)
    first = run(ctx.query, ctx.x, part, mask, ctx.targets, ctx.batch_size, req.progress, desc="PAMI run 1")
    timings = {"segment": t_segment, **first.timings}
    maps = first.maps
    if second_run:
        tp = perf_counter()
        maps = np.stack(
            [
                run(
                    ctx.query,
                    ctx.x,
                    mod.refine(ctx.x, m, req.seed, **partition_options),
                    mask,
                    [t],
                    ctx.batch_size,
                    req.progress,
                    desc=f"PAMI run 2, class {t}",
                ).maps[0]
                for t, m in zip(ctx.targets, first.maps)
            ]
        )
        timings["second_run"] = perf_counter() - tp
    timings["total"] = perf_counter() - t0
    return ctx.explanation(
        "pami",
        maps,
        first.scores,
        partition=part,
        aggregator=first.aggregator,
        first_run_maps=first.maps if second_run else None,
        timings=timings,
        params={
            "partition": partition if isinstance(partition, str) or partition is None else type(part).__name__,
            "masker": masker if isinstance(masker, (str, float, int)) or masker is None else type(mask).__name__,
            **partition_options,
            "batch_size": ctx.batch_size,
            "second_run": second_run,
            "seed": req.seed,
            "n_parts": part.n_parts,
        },
    )
