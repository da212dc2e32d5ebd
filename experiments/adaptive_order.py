"""Choose the order in which adaptive PAMI queries the 20 segmentations of Table 3, on the DEV split.

With the same partition every segmentation's Eq. 1 map is independent of the others, so one full
Strategy II run per image gives every segmentation's map, and the map of adaptive PAMI under any order
and budget is the mean of the maps of the segmentations that order fits into the budget (skipping
those that would exceed it, as ``pami(max_queries=...)`` does). This script scores candidate orders by
insertion (from the blur) and deletion (to grey) at a budget, and builds a greedy order (the next
setting is the one whose addition brings the budgeted map closest — by mean Pearson correlation, which
costs no query — to the full 20-segmentation map on the split's images).

    python experiments/adaptive_order.py --data ../shared/data/imagenet-sample --split dev --limit 40 --budget 115
"""

from __future__ import annotations

import argparse

import numpy as np

import peephole
from peephole.core.partition import GroupSubset
from peephole.core.run import aggregate
from peephole.evaluation.data import read_imagenet_sample
from peephole.methods.pami_adaptive import interleaved
from peephole.metrics.curves import perturbation_curve


def group_maps(model, img: np.ndarray, target: int) -> tuple[np.ndarray, np.ndarray]:
    """Every segmentation's Eq. 1 map (20, H, W) and its number of parts, from one full run."""
    e = peephole.explain(model, img, "pami", targets=target)
    part = e.partition
    maps, sizes = [], []
    start = 0
    for g in range(part.n_groups):
        sub = GroupSubset(part, [g])
        maps.append(aggregate(sub, e.scores[start : start + sub.n_parts, [target]])[0])
        sizes.append(sub.n_parts)
        start += sub.n_parts
    return np.stack(maps), np.asarray(sizes)


def chosen(order: list[int], sizes: np.ndarray, budget: int) -> list[int]:
    """The segmentations adaptive PAMI uses: in ``order``, skipping any that would pass the budget."""
    used, spent = [], 1
    for g in order:
        if spent + sizes[g] <= budget:
            used.append(g)
            spent += sizes[g]
    return used


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--data", required=True)
    ap.add_argument("--split", default="dev", choices=("dev", "test"))
    ap.add_argument("--limit", type=int, default=40)
    ap.add_argument("--budget", type=int, default=115)
    ap.add_argument("--step", type=int, default=896)
    args = ap.parse_args()
    model = peephole.load_model("efficientnet-lite0")
    cases = []
    for s in read_imagenet_sample(args.data, args.split):
        if len(cases) >= args.limit:
            break
        img = peephole.load_image(s.path, size=224)
        if int(np.argmax(model(img[None])[0])) == s.label:
            cases.append((img, s.label, *group_maps(model, img, s.label)))
            print(f"{len(cases)}/{args.limit} {s.path.name}", flush=True)
    cache: dict[tuple[int, ...], tuple[float, float]] = {}

    def score(subset_per_image: list[list[int]], metric: str) -> float:
        vals = []
        for (img, t, maps, _), used in zip(cases, subset_per_image):
            key = (id(img), *used, hash(metric))
            if key not in cache:
                heat = maps[used].mean(0)
                cache[key] = perturbation_curve(model, img, heat, t, metric, step=args.step).auc
            vals.append(cache[key])
        return float(np.mean(vals))

    names = [s.name for s in peephole.modalities.image.superpixels.PAPER_SEGMENTATIONS]
    inter = interleaved(peephole.modalities.image.superpixels.Superpixels([np.zeros((2, 2), int)] * 20, names))
    kinds = {}
    for g, n in enumerate(names):
        kinds.setdefault(n.split("(")[0], []).append(g)
    fine_first = [c[::-1][i] for i in range(8) for c in kinds.values() if i < len(c)]
    every = [list(range(20)) for _ in cases]
    full_ins, full_del = score(every, "insertion"), score(every, "deletion")
    print(f"\nfull Strategy II: insertion {full_ins:.4f}, deletion {full_del:.4f}")
    candidates = {"interleaved coarse-first": inter, "interleaved fine-first": fine_first, "Table 3 order": list(range(20))}

    def closeness(order: list[int]) -> float:
        rs = []
        for _, _, maps, sizes in cases:
            used = chosen(order, sizes, args.budget)
            rs.append(np.corrcoef(maps[used].mean(0).ravel(), maps.mean(0).ravel())[0, 1] if used else -1.0)
        return float(np.mean(rs))

    greedy: list[int] = []
    while len(greedy) < 20:
        best = max((g for g in range(20) if g not in greedy), key=lambda g: closeness([*greedy, g]))
        greedy.append(best)
        if all(chosen(greedy, c[3], args.budget) == chosen(greedy[:-1], c[3], args.budget) for c in cases):
            break  # the budget is full on every image
    candidates["greedy on this split"] = greedy + [g for g in range(20) if g not in greedy]
    print(f"\nbudget {args.budget} queries, {len(cases)} images ({args.split} split)\n")
    print("| order | queries/image | r with full map | insertion | Δ vs full | deletion | Δ vs full |")
    print("|---|---|---|---|---|---|---|")
    for name, order in candidates.items():
        used = [chosen(order, c[3], args.budget) for c in cases]
        q = np.mean([1 + c[3][u].sum() for c, u in zip(cases, used)])
        ins, dele = score(used, "insertion"), score(used, "deletion")
        r = closeness(order)
        print(f"| {name} | {q:.0f} | {r:.3f} | {ins:.4f} | {ins - full_ins:+.4f} | {dele:.4f} | {dele - full_del:+.4f} |")
    print("\ngreedy order:", [names[g] for g in candidates["greedy on this split"]])


if __name__ == "__main__":
    main()
