"""PAMI path: order the parts by a greedy path of coalitions scored on keeping AND hiding them.

Keep-one PAMI reads each part alone (what is *sufficient*), occlusion hides each part alone (what is
*necessary*); both look at one coalition size only. PAMI path walks from the empty coalition to the
full one, one part per step, and at each step looks at both ends at once. With ``S`` the parts chosen
so far, the step queries, for each candidate part ``j``, the input keeping ``S ∪ {j}`` and the input
hiding ``S ∪ {j}``, and appends the ``j`` that maximises (docs/pami.md, Eq. P1)

    g(j) = [ f(keep S∪j) − f(keep S)  +  w · ( f(hide S) − f(hide S∪j) ) ] / |j \\ S|

the rise of the insertion curve plus ``w`` times the fall of the deletion curve, per newly covered
feature (both curves are areas over the fraction of features changed). ``f`` is the target's output;
kept features show the input, the others take the masker's values, as in PAMI. ``search_fills`` (e.g.
``['black']``): every step also queries its coalitions with those fills and Eq. P1's gains are averaged over
all of them, so the order rests on no single fill (two more queries per candidate and fill).

Candidates: each step scores the ``candidates`` best-ranked parts not chosen yet, ranked by a LIME
surrogate (:mod:`peephole.methods.surrogate`, same parts and masker) fitted on the first ``n_samples``
queries, a fixed orthogonal design (:func:`~peephole.methods.surrogate.orthogonal_samples`): nothing is
drawn at random, so the seed does not enter and every call on the same input gives the same map. The path
stops when the next step would take the call past ``max_queries`` (the unperturbed input included; several
targets share the surrogate and split the rest); the parts it did not reach follow in the surrogate's
order. The map paints each part's Shapley-style value along the path per feature it added (:func:`values`):
the mean of its two marginal gains, on keeping it after the parts before it and on hiding it after them
(a permutation and its reverse, antithetic sampling of the Shapley value); the map sums to
``f(x) − f(∅)``.

Several segmentations (a partition of several groups, e.g. ``partition="superpixels"`` with two SLIC
``segmentations``): one path per segmentation, each with an equal share of ``max_queries`` and of ``n_samples`` (the
unperturbed input queried once), and the map is the mean of their maps, as Eq. 1 averages PAMI's groups — a pixel
then ranks by the parts covering it in every segmentation. Greedy subset selection for attribution:
Chen et al., ICLR 2024 (arXiv 2402.09164); a bidirectional search over both curves: LiMA (arXiv 2504.00470).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

import numpy as np
from tqdm.auto import tqdm

from peephole.core.aggregate import ScoresOnly
from peephole.core.options import require, require_finite
from peephole.core.partition import Coalitions, FunctionPartition, GroupSubset, MaskPartition, Partition, blocks
from peephole.core.perturb import BoundOnce, Masker
from peephole.core.run import RunResult, run
from peephole.errors import InputError
from peephole.methods.base import Outcome, PerturbationMethod, Settings
from peephole.methods.surrogate import LimeFit, orthogonal_samples
from peephole.pipeline import Context

#: ``values`` option -> the weights of (insertion, deletion) marginal gains in a position's value
MARGINALS = {"both": (0.5, 0.5), "insertion": (1.0, 0.0), "deletion": (0.0, 1.0)}


@dataclass(frozen=True)
class PathOptions:
    max_queries: int = 500  #: the whole call's budget, the unperturbed input included (shared by the segmentations)
    #: the surrogate's coalitions (split among the segmentations); None: half of ``max_queries``, at most 200
    n_samples: int | None = None
    candidates: int = 3  #: parts scored per step
    hide_weight: float = 1.0  #: w of Eq. P1
    #: further fills (masker names) each step also queries: Eq. P1's gains are averaged over the masker and these
    search_fills: tuple[str, ...] = ()
    #: each position's value: the mean of its marginal gains on both paths (Shapley-style), one path's only, or
    #: its part's surrogate weight (LIME's coefficient); every one fitted non-increasing along the order
    values: Literal["both", "insertion", "deletion", "surrogate"] = "both"

    def __post_init__(self) -> None:
        if self.n_samples is None:  # frozen: set once, so params record the number used
            object.__setattr__(self, "n_samples", max(2, min(200, self.max_queries // 2)))
        require("n_samples", self.n_samples, ">= 2 (the surrogate's fit)", lambda v: v >= 2)
        if self.max_queries < self.n_samples + 2:
            raise InputError(
                f"max_queries={self.max_queries} leaves no query for the path: the unperturbed input, {self.n_samples} "
                f"surrogate samples and the empty coalition take {self.n_samples + 2}"
            )
        require("candidates", self.candidates, ">= 1", lambda v: v >= 1)
        require_finite("hide_weight", self.hide_weight, 0)


class PamiPath(PerturbationMethod):
    """Rank the parts by the greedy keep-and-hide path (Eq. P1) in ``max_queries`` queries; one path per segmentation."""

    name = "pami-path"
    Options = PathOptions

    def masker(self, ctx: Context, s: Settings, masker: Masker) -> Masker:
        return BoundOnce(masker, ctx.x)

    def maps(self, ctx: Context, s: Settings, parts: Partition, masker: Masker) -> Outcome:
        """One path per group of ``parts`` (segmentation) on an equal share of the budget; their maps averaged."""
        o, n = s.options, parts.n_groups
        share = (o.max_queries - ctx.query.n_queries) // n
        samples = [o.n_samples // n + (g < o.n_samples % n) for g in range(n)]  # as LIME's grouped_samples
        if share < samples[0] + 1 or samples[-1] < 2:
            raise InputError(
                f"max_queries={o.max_queries} and n_samples={o.n_samples} are too few for {n} segmentations: each "
                f"segmentation's share of {share} queries must hold its {samples[0]} surrogate samples (at least 2) "
                "and the empty coalition"
            )
        outs = []
        for g in range(n):  # each segmentation's path stops at its share, whatever the one before it left
            group = parts if n == 1 else GroupSubset(parts, [g])
            outs.append(walk(ctx, o, group, masker, samples[g], ctx.query.n_queries + share))
        return Outcome(
            np.mean([out.maps for out in outs], axis=0),  # Eq. 1's mean over the groups
            np.concatenate([out.scores for out in outs]),
            {k: sum(out.timings[k] for out in outs) for k in outs[0].timings},
            # per segmentation and target (segmentation-major), the parts best first, and how many of them the path
            # chose (the rest: surrogate order)
            record={k: [v for out in outs for v in out.record[k]] for k in ("orders", "path_steps")},
        )


def walk(ctx: Context, o: PathOptions, parts: Partition, masker: Masker, n_samples: int, limit: int) -> Outcome:
    """The surrogate and one path per target over the parts of one segmentation, until the call has made ``limit``
    queries: per target, Eq. P1's order painted with :func:`values` (or the surrogate's weights)."""
    seen: dict[bytes, np.ndarray] = {}  # a coalition the path meets again (or the surrogate drew) is not re-queried
    coalitions = Coalitions(parts, orthogonal_samples(parts.n_parts, n_samples))
    args = (ctx.query, ctx.x, coalitions, masker, ctx.targets, ctx.batch_size, ctx.request.progress, ScoresOnly)
    drawn = run(*args, desc="pami-path surrogate", seen=seen)
    fit = LimeFit(coalitions, ctx.reference)
    fit.add(0, np.zeros(0), drawn.scores[:, ctx.targets])
    prior = fit.weights()  # (n_targets, n_parts)
    none = MaskPartition(np.zeros((1, *parts.shape), bool))
    # (masker, its own memory of queried coalitions): the same coalition gives other outputs under another fill
    fills = [(masker, seen)] + [(BoundOnce(ctx.modality.masker(f), ctx.x), {}) for f in o.search_fills]
    empties = [run(ctx.query, ctx.x, none, m, ctx.targets, 1, aggregator=ScoresOnly, seen=mem) for m, mem in fills]
    runs = [drawn, *empties]
    cover = Cover(parts)
    maps, orders, steps = [], [], []
    for i, t in enumerate(ctx.targets):
        share = (limit - ctx.query.n_queries) // (len(ctx.targets) - i)
        f_empty = np.array([float(e.scores[0, t]) for e in empties])
        order, curve, done = path(ctx, cover, fills, t, prior[i], share, o.candidates, o.hide_weight, f_empty)
        runs += done
        orders.append(order)
        steps.append(len(curve))
        at = positions(cover, order)
        sizes = np.bincount(at[at >= 0], minlength=len(order))
        if o.values == "surrogate":
            value = monotone(prior[i][np.asarray(order)], sizes)
        else:
            value = values(curve, sizes, float(f_empty.mean()), float(ctx.probabilities[t]), o.values)
        maps.append(np.where(at >= 0, value[at], 0).astype(np.float32).reshape(cover.shape))
    return Outcome(
        np.stack(maps),
        np.concatenate([r.scores for r in runs]),
        {k: sum(r.timings[k] for r in runs) for k in drawn.timings},
        record={"orders": orders, "path_steps": steps},
    )


class Cover:
    """The features of each part of ``parts``, flat indices made on demand (never every part's mask at once)."""

    def __init__(self, parts: Partition) -> None:
        self.parts, self.shape, self.n_features = parts, parts.shape, int(np.prod(parts.shape))
        self.nonempty = np.concatenate([np.diff(m.indptr) > 0 for _, m in blocks(parts)])

    def __getitem__(self, j: int) -> np.ndarray:
        return self.parts.sparse_masks(j, j + 1).indices


def path(
    ctx: Context,
    cover: Cover,
    fills: list[tuple[Any, dict[bytes, np.ndarray]]],
    target: int,
    prior: np.ndarray,
    budget: int,
    candidates: int,
    hide_weight: float,
    f_empty: np.ndarray,
) -> tuple[list[int], list[tuple[float, float]], list[RunResult]]:
    """The order of the parts for ``target``; ``(f(keep S_r), f(hide S_r))`` (means over ``fills``) after each step r
    of the greedy path (Eq. P1, its gains averaged over ``fills``: (masker, memory of queried coalitions) pairs,
    ``f_empty`` the empty coalition's output under each) it could afford within ``budget`` queries (the parts after
    them follow the surrogate); its runs."""
    ranked = [int(j) for j in np.argsort(-prior, kind="stable") if cover.nonempty[j]]  # surrogate order, best first
    kept = np.zeros(cover.n_features, bool)
    f_keep, f_hide = f_empty.copy(), np.full(len(fills), float(ctx.probabilities[target]))
    order: list[int] = []
    curve: list[tuple[float, float]] = []
    done: list[RunResult] = []
    spent = 0
    show = ctx.request.progress
    bar = tqdm(total=len(ranked) - 1, desc=f"pami-path, class {target}", unit="step", disable=not show, leave=False)
    while len(ranked) > 1:
        cand = []  # the best-ranked parts that still add features
        for j in ranked:
            n = int((~kept[cover[j]]).sum())
            if n:
                cand.append((j, n))
            if len(cand) == candidates:
                break
        cand.sort()  # queried, and equal gains taken, by part index: near-ties of the surrogate cannot reorder them
        if not cand or spent + 2 * len(cand) * len(fills) > budget:
            break
        both = FunctionPartition(cover.shape, 2 * len(cand), steps(kept, [cover[j] for j, _ in cand], cover.shape))
        before = ctx.query.n_queries
        res = [
            run(ctx.query, ctx.x, both, m, [target], ctx.batch_size, seen=mem, aggregator=ScoresOnly, desc="pami-path step")
            for m, mem in fills
        ]
        spent += ctx.query.n_queries - before
        done += res
        keep_f = np.stack([r.scores[: len(cand), target] for r in res])  # (fills, candidates)
        hide_f = np.stack([r.scores[len(cand) :, target] for r in res])
        gain = ((keep_f - f_keep[:, None]) + hide_weight * (f_hide[:, None] - hide_f)).mean(0) / np.array([n for _, n in cand])
        best = int(np.argmax(gain))
        j = cand[best][0]
        order.append(j)
        ranked.remove(j)
        kept[cover[j]] = True
        f_keep, f_hide = keep_f[:, best], hide_f[:, best]
        curve.append((float(f_keep.mean()), float(f_hide.mean())))
        bar.update()
    bar.total = bar.n  # the budget ended the path: the remaining parts follow the surrogate's order, no more steps
    bar.refresh()
    bar.close()
    return order + ranked, curve, done


def values(
    curve: list[tuple[float, float]], sizes: np.ndarray, f_empty: float, f_full: float, marginals: str = "both"
) -> np.ndarray:
    """Each position's value per feature, ``(n,)``: position r's Shapley-style value ``φ_r / sizes[r]``, made
    non-increasing along the order (:func:`monotone`).

    ``φ_r = ½ [(f(keep S_r) − f(keep S_{r−1})) + (f(hide S_{r−1}) − f(hide S_r))]`` is the mean of part r's
    marginal gain on the insertion path and on the deletion path (a permutation and its reverse: the
    antithetic pair of Shapley permutation sampling); the parts after the path share what it left,
    ``½ [(f(x) − f(keep S_m)) + (f(hide S_m) − f(∅))]``, per feature. ``marginals`` ('insertion' or
    'deletion') keeps one path's gain instead of the mean (:data:`MARGINALS`); each telescopes to the same sum.
    ``sizes[r]``: the features position r added (0: it paints nothing). The sum over the map stays
    ``f(x) − f(∅)``.
    """
    n, m = len(sizes), len(curve)
    keep = np.array([f_empty] + [k for k, _ in curve] + [f_full])
    hide = np.array([f_full] + [h for _, h in curve] + [f_empty])
    w_keep, w_hide = MARGINALS[marginals]
    phi = w_keep * np.diff(keep) - w_hide * np.diff(hide)  # φ of the m path positions, then of the whole tail
    density = np.zeros(n)
    tail = sizes[m:].sum()
    density[:m] = phi[:m] / np.maximum(sizes[:m], 1)
    density[m:] = phi[m] / tail if tail else 0.0
    return monotone(density, sizes)


def monotone(density: np.ndarray, sizes: np.ndarray) -> np.ndarray:
    """``density`` (one value per feature at each position of the order) fitted non-increasing along the order, so
    the map's curves follow the order: isotonic regression weighted by ``sizes`` (the features each position adds;
    0 paints nothing), which keeps each pooled block's total, plus a rank term ``δ (n − r) / n`` (``δ`` a thousandth
    of the largest value; its mean over the features taken off, so the sum holds) that breaks the ties pooling leaves.
    """
    from sklearn.isotonic import IsotonicRegression

    n = len(sizes)
    painted = sizes > 0
    fitted = np.zeros(n)
    if painted.any():
        iso = IsotonicRegression(increasing=False)
        fitted[painted] = iso.fit_transform(np.flatnonzero(painted), density[painted], sample_weight=sizes[painted])
    delta = 1e-3 * float(np.abs(fitted).max()) or 1.0
    rank = (n - np.arange(n)) / n
    return fitted + delta * (rank - (sizes * rank).sum() / max(sizes.sum(), 1))


def steps(kept: np.ndarray, adds: list[np.ndarray], shape: tuple[int, ...]) -> Any:
    """``masks(start, stop)`` of a step's queries: query i < n keeps ``kept`` plus candidate i's features
    (``adds[i]``), query n + i hides them (its complement); built per batch."""
    n = len(adds)

    def masks(start: int, stop: int) -> np.ndarray:
        out = np.empty((stop - start, len(kept)), bool)
        for row, i in enumerate(range(start, stop)):
            out[row] = kept
            out[row, adds[i % n]] = True
            if i >= n:
                out[row] = ~out[row]
        return out.reshape(stop - start, *shape)

    return masks


def positions(cover: Cover, order: list[int]) -> np.ndarray:
    """``(n_features,)`` int: the position r of the first part of ``order`` covering each feature (its part
    ``order[r]`` added it to the coalition); −1 where no part covers."""
    out = np.full(cover.n_features, -1, np.int64)
    for r, j in enumerate(order):
        idx = cover[j]
        out[idx[out[idx] < 0]] = r
    return out
