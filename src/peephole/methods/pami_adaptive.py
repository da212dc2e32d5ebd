"""Adaptive PAMI: a budget of queries (``max_queries``) and/or a ``tolerance``, spent coarse to fine.

First the groups of the partition (Strategy II: the segmentations) are queried whole, one at a time, interleaving
the algorithms, coarse settings first (:func:`interleaved`): a group that would take the run past
``coarse_share × max_queries`` model queries (the unperturbed input included) is skipped, and with ``tolerance``
the run stops once adding a group changes the averaged map by less than ``tolerance`` (relative L2 norm, every
target). Then the rest of ``max_queries`` refines (:func:`refinement`): it goes to the parts of the other groups
on which the coarse map is highest (Hierarchical Perturbation's rule, Cooper et al. 2021); off its queried parts,
such a group's Eq. 1 term is f(∅), the output with nothing kept (one more query). The budget is never exceeded.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from peephole.core.aggregate import FilledEq1Aggregator
from peephole.core.partition import GroupSubset, Partition, PartSubset, blocks
from peephole.core.run import RunResult, run
from peephole.errors import InputError


def interleaved(partition: Partition) -> list[int]:
    """Group order for adaptive runs: one group of each kind in turn (Strategy II: Felzenszwalb, SLIC, SEEDS,
    watershed, then the next setting of each), so any prefix mixes the algorithms."""
    names = getattr(partition, "names", None) or [str(g) for g in range(partition.n_groups)]
    kinds: dict[str, list[int]] = {}
    for g, name in enumerate(names):
        kinds.setdefault(name.split("(")[0], []).append(g)
    columns = list(kinds.values())
    return [c[i] for i in range(max(map(len, columns))) for c in columns if i < len(c)]


def adaptive(
    ctx: Any, part: Partition, mask: Any, max_queries: int | None, tolerance: float | None, coarse_share: float
) -> tuple[Partition, RunResult]:
    """Adaptive PAMI (see above): whole groups coarse-first, then the budget's rest on the parts that the coarse
    map ranks highest; the parts used (a :class:`PartSubset`, or a :class:`GroupSubset` when nothing was refined)
    and the combined run. The options are checked by :class:`~peephole.methods.pami.PamiOptions`."""
    coarse = None if max_queries is None else max(2, int(coarse_share * max_queries))
    used: list[int] = []
    results: list[RunResult] = []
    mean = None
    stable = False
    seen: dict[bytes, np.ndarray] = {}  # a part repeated by a later segmentation is not queried again
    for g in interleaved(part):
        sub = GroupSubset(part, [g])
        if coarse is not None and ctx.query.n_queries + sub.n_parts > coarse:
            continue
        args = (ctx.query, ctx.x, sub, mask, ctx.targets, ctx.batch_size, ctx.request.progress)
        res = run(*args, desc=f"PAMI group {g}", seen=seen)
        used.append(g)
        results.append(res)
        new = np.mean([r.maps for r in results], axis=0)
        if tolerance is not None and mean is not None:
            change = np.linalg.norm((new - mean).reshape(len(new), -1), axis=1)
            if (change <= tolerance * np.linalg.norm(new.reshape(len(new), -1), axis=1)).all():
                mean, stable = new, True
                break
        mean = new
    if not used:
        raise InputError(f"max_queries={max_queries} is too small for any group of the partition")
    whole = GroupSubset(part, used)
    left = 0 if max_queries is None or stable else max_queries - ctx.query.n_queries - 1  # 1: the empty input
    extra = refinement(part, used, mean, left) if left > 0 else np.zeros(0, np.int64)
    final: Partition = whole
    if len(extra):
        sub = PartSubset(part, extra, empty=True)
        args = (ctx.query, ctx.x, sub, mask, ctx.targets, ctx.batch_size, ctx.request.progress)
        refined = run(*args, desc="PAMI refinement", seen=seen, aggregator=FilledEq1Aggregator)
        results.append(refined)
        n_refined = sub.n_groups - 1  # its last group is the empty input
        mean = (len(used) * mean + n_refined * refined.maps) / (len(used) + n_refined)  # every group weighs the same
        final = PartSubset(part, np.concatenate([whole.index, extra]), empty=True)
    timings = {k: sum(r.timings.get(k, 0.0) for r in results) for k in results[0].timings}
    scores = np.concatenate([r.scores for r in results])
    n_queries = sum(r.n_queries for r in results)
    return final, RunResult(mean, scores, n_queries, timings, results[-1].aggregator)


def refinement(part: Partition, used: list[int], coarse: np.ndarray, n: int) -> np.ndarray:
    """The ``n`` parts of the groups not in ``used`` that :func:`priority` ranks highest, in index order
    (Hierarchical Perturbation, Cooper et al. 2021: refine only where the coarse saliency is high)."""
    rest = np.flatnonzero(~np.isin(part.groups, used))
    top = np.argsort(-priority(part, rest, coarse), kind="stable")[:n]
    return np.sort(rest[top])


def priority(part: Partition, parts: np.ndarray, coarse: np.ndarray) -> np.ndarray:
    """Each of ``parts``' refinement priority: the largest value of :func:`normalised` ``coarse`` on it."""
    best = normalised(coarse)
    out = np.empty(len(parts))
    for start, m in blocks(PartSubset(part, parts)):
        # the maximum over each part's features: one reduceat over the sparse masks' rows (-inf closes the last)
        top = np.maximum.reduceat(np.append(best[m.indices], -np.inf), m.indptr[:-1])
        out[start : start + m.shape[0]] = np.where(np.diff(m.indptr) > 0, top, -np.inf)
    return out


def normalised(coarse: np.ndarray) -> np.ndarray:
    """Per feature, the largest over the targets of a target's coarse map over that map's maximum |value|."""
    flat = coarse.reshape(len(coarse), -1).astype(np.float64)
    scale = np.abs(flat).max(axis=1, keepdims=True)
    return (flat / np.where(scale > 0, scale, 1.0)).max(axis=0)
