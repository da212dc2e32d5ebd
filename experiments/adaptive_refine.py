"""Choose adaptive PAMI's refinement on the DEV split, on both substrates.

Adaptive PAMI (``pami(max_queries=B, coarse_share=a)``) queries whole segmentations coarse-first within
a·B queries, then spends the rest on the other segmentations' parts where the coarse map is highest, with
f(∅) (one query) off a refined segmentation's queried parts. Keep-one outputs do not depend on which other
parts are queried, so one full Strategy II run per image and substrate gives the map of every setting
(exact repeats of a superpixel across segmentations, which a real run queries once, are counted as
queries here). Every map is scored by insertion from substrate s and deletion to s, with PAMI masking
with s, and compared, paired, with full Strategy II on the same images.

A setting (``--settings``, comma-separated) is ``whole`` (whole segmentations within the budget, no
refinement: the rule before) or ``share=a`` with optional ``:``-joined alternatives that the library
does NOT use, kept here because they were measured against it: ``prio=mean`` (a part's priority is the
coarse map's mean on it instead of its maximum), ``rounds=r`` (the refinement budget spent in r rounds,
the priorities recomputed from the map so far, as Hierarchical Perturbation recurses) and
``budget=quarter`` (each image's budget is ¼ of its own Strategy II queries instead of ``--budget``).
``share=a`` alone is the library's rule (``peephole.methods.pami_adaptive.refinement``: ``priority``, top n;
``FilledEq1Aggregator``).

    python experiments/adaptive_refine.py --data ../shared/data/imagenet-sample --split dev --limit 40 --budget 115
"""

from __future__ import annotations

import argparse

import numpy as np
from adaptive_order import chosen

import peephole
from peephole.core.aggregate import FilledEq1Aggregator
from peephole.core.partition import GroupSubset, Partition, PartSubset
from peephole.core.query import softmax
from peephole.core.run import aggregate
from peephole.evaluation.data import correctly_classified
from peephole.methods.pami_adaptive import interleaved, normalised, priority
from peephole.metrics.curves import perturbation_curve
from peephole.modalities.image.maskers import MASKERS

METRICS = ("insertion", "deletion")
DEFAULT_SETTINGS = "whole,share=0.35,share=0.5,share=0.65"


def parse(spec: str) -> dict[str, str]:
    """``share=0.35:rounds=2`` -> {"share": "0.35", "rounds": "2"}; ``whole`` -> {}."""
    return {} if spec == "whole" else dict(kv.split("=", 1) for kv in spec.split(":"))


def mean_priority(part: Partition, cand: np.ndarray, coarse: np.ndarray) -> np.ndarray:
    """The alternative ``prio=mean``: the normalised coarse map's mean on each candidate part."""
    m = PartSubset(part, cand).masks(0, len(cand)).reshape(len(cand), -1)
    return (m @ normalised(coarse)) / m.sum(axis=1)


def adaptive_map(e: peephole.Explanation, f0: float, budget: int, setting: dict[str, str]) -> np.ndarray:
    """The map of adaptive PAMI at ``budget`` under ``setting`` (see the module docstring), from the full
    run ``e`` (one target), aggregated as the method does."""
    part, scores = e.partition, e.scores[:, e.targets]
    sizes = np.bincount(part.groups)
    if setting.get("budget") == "quarter":
        budget = (part.n_parts + 1) // 4
    share = float(setting.get("share", 1.0))
    used = chosen(interleaved(part), sizes, budget if not setting else max(2, int(share * budget)))
    whole = GroupSubset(part, used)
    coarse = aggregate(whole, scores[whole.index])
    if not setting:
        return coarse[0]
    left, rounds = budget - 1 - len(whole.index) - 1, int(setting.get("rounds", 1))
    rank = mean_priority if setting.get("prio") == "mean" else priority
    rest = np.flatnonzero(~np.isin(part.groups, used))
    extra, current = np.zeros(0, np.int64), coarse
    for r in range(rounds):  # one round: exactly the library's refinement(part, used, coarse, left)
        n = left // rounds if r < rounds - 1 else left - len(extra)
        cand = np.setdiff1d(rest, extra)
        extra = np.sort(np.concatenate([extra, cand[np.argsort(-rank(part, cand, current), kind="stable")[:n]]]))
        final = PartSubset(part, extra, empty=True)
        refined = aggregate(final, np.concatenate([scores[final.index], [[f0]]]), aggregator=FilledEq1Aggregator)
        n_refined = final.n_groups - 1
        current = (len(used) * coarse + n_refined * refined) / (len(used) + n_refined)
    return current[0]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--data", required=True)
    ap.add_argument("--split", default="dev", choices=("dev", "test"))
    ap.add_argument("--limit", type=int, default=40)
    ap.add_argument("--budget", type=int, default=115)
    ap.add_argument("--settings", default=DEFAULT_SETTINGS)
    ap.add_argument("--step", type=int, default=896)
    args = ap.parse_args()
    model = peephole.load_model("efficientnet-lite0")
    settings = {spec: parse(spec) for spec in args.settings.split(",")}
    rows: dict[tuple[str, str], list[tuple[float, float]]] = {}
    for k, (s, img) in enumerate(correctly_classified(model, args.data, args.split, args.limit), start=1):
        for sub in ("blur", "grey"):
            masker = MASKERS[sub]()
            e = peephole.explain(model, img, "pami", targets=s.label, masker=sub)
            empty = np.broadcast_to(masker.baseline(img), img.shape).astype(np.float32)[None]
            f0 = float(softmax(np.asarray(model(empty), np.float64))[0, s.label])
            maps = {"full Strategy II": e.maps[0]}
            maps |= {name: adaptive_map(e, f0, args.budget, st) for name, st in settings.items()}
            for name, heat in maps.items():
                ins, dele = (perturbation_curve(model, img, heat, s.label, m, step=args.step, masker=masker).auc for m in METRICS)
                rows.setdefault((sub, name), []).append((ins, dele))
        print(f"{k}/{args.limit} {s.path.name}", flush=True)
    print(f"\nbudget {args.budget} queries, {k} images ({args.split} split); Δ = setting − full Strategy II, paired ± s.e.\n")
    print("| substrate | setting | insertion | Δ insertion | deletion | Δ deletion |\n|---|---|---|---|---|---|")
    for sub in ("blur", "grey"):
        full = np.asarray(rows[(sub, "full Strategy II")])
        for name in ["full Strategy II", *settings]:
            r = np.asarray(rows[(sub, name)])
            d, se = (r - full).mean(0), (r - full).std(0, ddof=1) / np.sqrt(len(r))
            ins, dele = (f"{r[:, i].mean():.4f} | {d[i]:+.4f} ± {se[i]:.4f}" for i in (0, 1))
            print(f"| {sub} | {name} | {ins} | {dele} |")


if __name__ == "__main__":
    main()
