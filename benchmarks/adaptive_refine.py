"""Choose adaptive PAMI's ``coarse_share`` on the DEV split, on both substrates.

Adaptive PAMI (``pami(max_queries=B, coarse_share=a)``) queries whole segmentations coarse-first within
a·B queries, then spends the rest on the other segmentations' parts where the coarse map is highest, with
f(∅) (one query) off a refined segmentation's queried parts. Keep-one outputs do not depend on which other
parts are queried, so one full Strategy II run per image and substrate gives the map of every setting
(this script applies the rule of ``peephole.methods.pami.adaptive`` to the full run's outputs; exact
repeats of a superpixel across segmentations, which a real run queries once, are counted as queries here).
Every map is scored by insertion from substrate s and deletion to s, with PAMI masking with s, and
compared, paired, with full Strategy II on the same images.

    python benchmarks/adaptive_refine.py --data ../shared/data/imagenet-sample --split dev --limit 40 --budget 115
"""

from __future__ import annotations

import argparse

import numpy as np
from adaptive_order import chosen

import peephole
from peephole.benchmark.data import correctly_classified
from peephole.engine.query import softmax
from peephole.methods.pami import interleaved
from peephole.metrics.curves import perturbation_curve
from peephole.modalities.image.maskers import MASKERS

METRICS = ("insertion", "deletion")


def per_part(e: peephole.Explanation, target: int) -> list[tuple[np.ndarray, np.ndarray]]:
    """Per segmentation: its label map renumbered 0..n-1 and f_target(keep part) of each part."""
    out, start = [], 0
    for lab in e.partition.label_maps:
        u = np.unique(lab)
        out.append((np.searchsorted(u, lab), e.scores[start : start + len(u), target].astype(np.float64)))
        start += len(u)
    return out


def adaptive_map(groups: list[tuple[np.ndarray, np.ndarray]], names: list[str], f0: float, budget: int, share: float | None):
    """The map of adaptive PAMI at ``budget``: whole groups only (``share=None``: the rule before the
    refinement), or whole groups within share·budget then the refinement."""
    order = interleaved(type("Names", (), {"names": names, "n_groups": len(names)})())
    sizes = [len(v) for _, v in groups]
    limit = budget if share is None else max(2, int(share * budget))
    used = chosen(order, np.asarray(sizes), limit)
    spent = 1 + sum(sizes[g] for g in used)
    coarse = np.mean([v[lab] for lab, v in (groups[g] for g in used)], axis=0)
    if share is None:
        return coarse
    rest = [g for g in range(len(groups)) if g not in used]
    cands = []
    for g in rest:
        lab, v = groups[g]
        top = np.full(len(v), -np.inf)
        np.maximum.at(top, lab.ravel(), coarse.ravel())
        cands += [(-top[j], g, j) for j in range(len(v))]
    picked = sorted(cands)[: max(0, budget - spent - 1)]
    keep = {g: np.zeros(len(groups[g][1]), bool) for g in rest}
    for _, g, j in picked:
        keep[g][j] = True
    maps = [groups[g][1][groups[g][0]] for g in used]
    maps += [np.where(keep[g], groups[g][1], f0)[groups[g][0]] for g in rest if keep[g].any()]
    return np.mean(maps, axis=0)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--data", required=True)
    ap.add_argument("--split", default="dev", choices=("dev", "test"))
    ap.add_argument("--limit", type=int, default=40)
    ap.add_argument("--budget", type=int, default=115)
    ap.add_argument("--shares", default="0.35,0.5,0.65")
    ap.add_argument("--step", type=int, default=896)
    args = ap.parse_args()
    model = peephole.load_model("efficientnet-lite0")
    shares = {f"coarse_share={a}": float(a) for a in args.shares.split(",")}
    settings: dict[str, float | None] = {"whole groups only": None, **shares}
    rows: dict[tuple[str, str], list[tuple[float, float]]] = {}
    for k, (s, img) in enumerate(correctly_classified(model, args.data, args.split, args.limit), start=1):
        for sub in ("blur", "grey"):
            masker = MASKERS[sub]()
            e = peephole.explain(model, img, "pami", targets=s.label, masker=sub)
            groups = per_part(e, s.label)
            empty = np.broadcast_to(masker.baseline(img), img.shape).astype(np.float32)[None]
            f0 = float(softmax(np.asarray(model(empty), np.float64))[0, s.label])
            maps = {"full Strategy II": np.mean([v[lab] for lab, v in groups], axis=0)}
            maps |= {name: adaptive_map(groups, e.partition.names, f0, args.budget, a) for name, a in settings.items()}
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
