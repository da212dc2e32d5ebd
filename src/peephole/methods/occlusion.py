"""Occlusion (Zeiler & Fergus, ECCV 2014): hide ONE part, keep the rest, measure the drop.

The mirror of PAMI on the same partitions: each query *hides* its part (the complement is kept) and
a feature's importance is the mean drop ``f_k(x) − f_k(x without part j)`` over the parts that hid it.
On images the default parts are PAMI Strategy I's sliding windows and the hidden pixels take PAMI's
blur, so the only difference from PAMI Strategy I is keep-the-part versus hide-the-part.
"""

from __future__ import annotations

from time import perf_counter
from typing import Any

from peephole.core.aggregate import DropAggregator
from peephole.core.partition import Complement
from peephole.core.run import run
from peephole.pipeline import Request, prepare
from peephole.result import Explanation

#: Default parts per modality (else the modality's own default).
DEFAULT_PARTITION = {"image": "window"}


def occlusion(req: Request, partition: Any = None, masker: Any = None, **partition_options: Any) -> Explanation:
    """Explain by hiding each part of ``partition`` in turn (one query per part)."""
    t0 = perf_counter()
    ctx = prepare(req)
    mod = ctx.modality
    spec = DEFAULT_PARTITION.get(mod.name, mod.default_partition) if partition is None else partition
    part = Complement(mod.partition(ctx.x, spec, req.seed, **partition_options))
    mask = mod.masker(mod.default_masker if masker is None else masker)
    args = (ctx.query, ctx.x, part, mask, ctx.targets, ctx.batch_size, req.progress)
    res = run(*args, DropAggregator, reference=ctx.reference, desc="Occlusion")
    return ctx.explanation(
        "occlusion",
        res.maps,
        res.scores,
        partition=part,
        aggregator=res.aggregator,
        timings={**res.timings, "total": perf_counter() - t0},
        params={
            "partition": spec if isinstance(spec, str) else type(part.inner).__name__,
            "masker": masker if isinstance(masker, (str, float, int)) or masker is None else type(mask).__name__,
            **partition_options,
            "batch_size": ctx.batch_size,
        },
    )
