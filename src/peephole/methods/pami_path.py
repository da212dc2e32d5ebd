"""PAMI path: order the parts by a greedy path of coalitions scored on keeping AND hiding them.

Keep-one PAMI reads each part alone (what is *sufficient*), occlusion hides each part alone (what is
*necessary*); both look at one coalition size only. PAMI path walks from the empty coalition to the
full one, one part per step, and at each step looks at both ends at once. With ``S`` the parts chosen
so far, the step queries, for each candidate part ``j``, the input keeping ``S ∪ {j}`` and the input
hiding ``S ∪ {j}``, and appends the ``j`` that maximises (docs/pami.md, Eq. P1)

    g(j) = [ f(keep S∪j) − f(keep S)  +  w · ( f(hide S) − f(hide S∪j) ) ] / |j \\ S|

the rise of the insertion curve plus ``w`` times the fall of the deletion curve, per newly covered
feature (both curves are areas over the fraction of features changed). ``f`` is the target's output;
kept features show the input, the others take the masker's values, as in PAMI.

Candidates: each step scores the ``candidates`` best-ranked parts not chosen yet, ranked by a LIME
surrogate (:mod:`peephole.methods.lime`, same parts and masker) fitted on the first ``n_samples``
queries. The path stops when the next step would take the call past ``max_queries`` (the unperturbed
input included; several targets share the surrogate and split the rest); the parts it did not reach
follow in the surrogate's order. The map paints, on the features each part added, the share of the two
curves still unexplained when it was added (:func:`values`), strictly decreasing along the order. Greedy
subset selection for attribution:
Chen et al., ICLR 2024 (arXiv 2402.09164); a bidirectional search over both curves: LiMA (arXiv 2504.00470).
"""

from __future__ import annotations

from time import perf_counter
from typing import Any

import numpy as np
from tqdm.auto import tqdm

from peephole.core.aggregate import ScoresOnly
from peephole.core.partition import Coalitions, MaskPartition
from peephole.core.perturb import BoundOnce
from peephole.core.run import RunResult, run
from peephole.errors import InputError
from peephole.methods.lime import DEFAULT_PARTITION, LimeFit, lime_samples, part_names
from peephole.pipeline import Context, Request, prepare
from peephole.result import Explanation


def pami_path(
    req: Request,
    max_queries: int = 500,
    n_samples: int = 200,
    candidates: int = 3,
    hide_weight: float = 1.0,
    partition: Any = None,
    masker: Any = None,
    **partition_options: Any,
) -> Explanation:
    """Rank the parts of ``partition`` by the greedy keep-and-hide path (Eq. P1) in ``max_queries`` queries."""
    if n_samples < 2:
        raise InputError(f"pami-path needs n_samples >= 2 for its surrogate, got {n_samples}")
    if max_queries < n_samples + 2:
        raise InputError(
            f"max_queries={max_queries} leaves no query for the path: the unperturbed input, {n_samples} surrogate "
            f"samples and the empty coalition take {n_samples + 2}"
        )
    if candidates < 1:
        raise InputError(f"candidates must be >= 1, got {candidates}")
    if not isinstance(hide_weight, (int, float, np.number)) or not np.isfinite(hide_weight) or hide_weight < 0:
        raise InputError(f"hide_weight must be a finite number >= 0, got {hide_weight!r}")
    t0 = perf_counter()
    ctx = prepare(req)
    mod = ctx.modality
    tp = perf_counter()
    spec = DEFAULT_PARTITION.get(mod.name, mod.default_partition) if partition is None else partition
    parts = mod.partition(ctx.x, spec, req.seed, **partition_options)
    if parts.n_groups != 1:
        raise InputError(
            f"pami-path orders the parts of one segmentation; this partition has {parts.n_groups} groups "
            "(for PAMI's keep-one maps over several segmentations use method='pami')"
        )
    t_segment = perf_counter() - tp
    mask = BoundOnce(mod.masker(mod.default_masker if masker is None else masker), ctx.x)
    seen: dict[bytes, np.ndarray] = {}  # a coalition the path meets again (or the surrogate drew) is not re-queried
    coalitions = Coalitions(parts, lime_samples(parts.n_parts, n_samples, req.seed))
    args = (ctx.query, ctx.x, coalitions, mask, ctx.targets, ctx.batch_size, req.progress, ScoresOnly)
    drawn = run(*args, desc="pami-path surrogate", seen=seen)
    fit = LimeFit(coalitions, ctx.reference)
    fit.add(0, np.zeros(0), drawn.scores[:, ctx.targets])
    prior = fit.weights()  # (n_targets, n_parts)
    none = MaskPartition(np.zeros((1, *parts.shape), bool))
    empty = run(ctx.query, ctx.x, none, mask, ctx.targets, 1, aggregator=ScoresOnly, seen=seen)
    runs = [drawn, empty]
    cover = parts.masks(0, parts.n_parts).reshape(parts.n_parts, -1)  # each part's features, flat
    maps, orders, steps = [], [], []
    for i, t in enumerate(ctx.targets):
        share = (max_queries - ctx.query.n_queries) // (len(ctx.targets) - i)
        f_empty = float(empty.scores[0, t])
        order, curve, done = path(ctx, cover, parts.shape, mask, t, prior[i], share, candidates, hide_weight, seen, f_empty)
        runs += done
        orders.append(order)
        steps.append(len(curve))
        maps.append(paint(cover, parts.shape, order, values(curve, len(order), f_empty, float(ctx.probabilities[t]))))
    return ctx.explanation(
        "pami-path",
        np.stack(maps),
        np.concatenate([r.scores for r in runs]),
        timings={
            "segment": t_segment,
            **{k: sum(r.timings[k] for r in runs) for k in drawn.timings},
            "total": perf_counter() - t0,
        },
        params={
            "max_queries": max_queries,
            "n_samples": n_samples,
            "candidates": candidates,
            "hide_weight": hide_weight,
            "n_parts": parts.n_parts,
            "partition": spec if isinstance(spec, str) else getattr(spec, "name", None) or part_names(parts),
            "masker": masker if isinstance(masker, (str, float, int)) or masker is None else type(masker).__name__,
            **partition_options,
            "seed": req.seed,
            "batch_size": ctx.batch_size,
            "orders": orders,  #: per target, the parts best first
            "path_steps": steps,  #: per target, how many of them the path chose (the rest: surrogate order)
        },
    )


def path(
    ctx: Context,
    cover: np.ndarray,
    shape: tuple[int, ...],
    mask: Any,
    target: int,
    prior: np.ndarray,
    budget: int,
    candidates: int,
    hide_weight: float,
    seen: dict[bytes, np.ndarray],
    f_empty: float,
) -> tuple[list[int], list[tuple[float, float]], list[RunResult]]:
    """The order of the parts for ``target``; ``(f(keep S_r), f(hide S_r))`` after each step r of the greedy path
    (Eq. P1) it could afford within ``budget`` queries (the parts after them follow the surrogate); its runs.
    ``cover``: the parts' features, ``(n_parts, n_features)`` bool; ``shape``: the features' shape."""
    ranked = [int(j) for j in np.argsort(-prior, kind="stable") if cover[j].any()]  # surrogate order, best first
    kept = np.zeros(cover.shape[1], bool)
    f_keep, f_hide = f_empty, float(ctx.probabilities[target])
    order: list[int] = []
    curve: list[tuple[float, float]] = []
    done: list[RunResult] = []
    spent = 0
    show = ctx.request.progress
    bar = tqdm(total=len(ranked) - 1, desc=f"pami-path, class {target}", unit="step", disable=not show, leave=False)
    while len(ranked) > 1:
        cand = []  # the best-ranked parts that still add features
        for j in ranked:
            n = int((cover[j] & ~kept).sum())
            if n:
                cand.append((j, n))
            if len(cand) == candidates:
                break
        if not cand or spent + 2 * len(cand) > budget:
            break
        keeps = np.stack([kept | cover[j] for j, _ in cand])
        both = MaskPartition(np.concatenate([keeps, ~keeps]).reshape(2 * len(cand), *shape))
        before = ctx.query.n_queries
        res = run(ctx.query, ctx.x, both, mask, [target], ctx.batch_size, seen=seen, aggregator=ScoresOnly, desc="pami-path step")
        spent += ctx.query.n_queries - before
        done.append(res)
        keep_f, hide_f = res.scores[: len(cand), target], res.scores[len(cand) :, target]
        gain = ((keep_f - f_keep) + hide_weight * (f_hide - hide_f)) / np.array([n for _, n in cand])
        best = int(np.argmax(gain))
        j = cand[best][0]
        order.append(j)
        ranked.remove(j)
        kept |= cover[j]
        f_keep, f_hide = float(keep_f[best]), float(hide_f[best])
        curve.append((f_keep, f_hide))
        bar.update()
    bar.close()
    return order + ranked, curve, done


def values(curve: list[tuple[float, float]], n: int, f_empty: float, f_full: float) -> np.ndarray:
    """Each position's value in the map: ``0.95 · (1 − e) + 0.05 · (n − r) / n``, strictly decreasing in r.

    ``e`` is the share of the two curves the parts before position r already explain along the path,
    ``e_r = [(f(keep S_r) − f(∅)) + (f(x) − f(hide S_r))] / 2(f(x) − f(∅))`` (running maximum, clipped to
    [0, 1]); the parts after the path share what it left unexplained, linearly. The rank term keeps the
    order exact (no ties); without a rise from f(∅) to f(x) there is no share to paint and the map is the rank.
    """
    rank = (n - np.arange(n)) / n
    span = f_full - f_empty
    if not span > 0:
        return rank
    e = np.zeros(n)
    m = len(curve)  # < n: the path stops with one part left
    explained = np.clip([((k - f_empty) + (f_full - h)) / (2 * span) for k, h in curve], 0, 1)
    e[1 : m + 1] = np.maximum.accumulate(explained)
    left = 1 - e[m]
    tail = n - m - 1  # positions after the last one the path chose
    if tail > 0:
        e[m + 1 :] = 1 - left * (tail - np.arange(tail)) / (tail + 1)
    return 0.95 * (1 - e) + 0.05 * rank


def paint(cover: np.ndarray, shape: tuple[int, ...], order: list[int], value: np.ndarray) -> np.ndarray:
    """``value[r]`` on the features that part ``order[r]`` added to the coalition; 0 where no part covers."""
    out = np.zeros(cover.shape[1], np.float32)
    done = np.zeros(cover.shape[1], bool)
    for r, j in enumerate(order):
        out[cover[j] & ~done] = value[r]
        done |= cover[j]
    return out.reshape(shape)
