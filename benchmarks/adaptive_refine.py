"""Choose adaptive PAMI's ``coarse_share`` on the DEV split, on both substrates.

Adaptive PAMI (``pami(max_queries=B, coarse_share=a)``) queries whole segmentations coarse-first within
a·B queries, then spends the rest on the other segmentations' parts where the coarse map is highest, with
f(∅) (one query) off a refined segmentation's queried parts. Keep-one outputs do not depend on which other
parts are queried, so one full Strategy II run per image and substrate gives the map of every setting
(this script applies the method's own selection, ``peephole.methods.pami.refinement``, and aggregator to
the full run's outputs; exact repeats of a superpixel across segmentations, which a real run queries
once, are counted as queries here).
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
from peephole.engine.aggregate import FilledEq1Aggregator
from peephole.engine.partition import GroupSubset, PartSubset
from peephole.engine.query import softmax
from peephole.engine.run import aggregate
from peephole.methods.pami import interleaved, refinement
from peephole.metrics.curves import perturbation_curve
from peephole.modalities.image.maskers import MASKERS

METRICS = ("insertion", "deletion")


def adaptive_map(e: peephole.Explanation, f0: float, budget: int, share: float | None) -> np.ndarray:
    """The map of adaptive PAMI at ``budget`` from the full run ``e`` (one target): whole groups only
    (``share=None``: the rule before the refinement), or whole groups within share·budget, then the parts
    :func:`peephole.methods.pami.refinement` picks, aggregated as the method does."""
    part, scores = e.partition, e.scores[:, e.targets]
    sizes = np.bincount(part.groups)
    used = chosen(interleaved(part), sizes, budget if share is None else max(2, int(share * budget)))
    whole = GroupSubset(part, used)
    if share is None:
        return aggregate(whole, scores[whole.index])[0]
    extra = refinement(part, used, aggregate(whole, scores[whole.index]), budget - 1 - len(whole.index) - 1)
    final = PartSubset(part, np.concatenate([whole.index, extra]), empty=True)
    rows = np.concatenate([scores[final.index], [[f0]]])
    return aggregate(final, rows, aggregator=FilledEq1Aggregator)[0]


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
            empty = np.broadcast_to(masker.baseline(img), img.shape).astype(np.float32)[None]
            f0 = float(softmax(np.asarray(model(empty), np.float64))[0, s.label])
            maps = {"full Strategy II": e.maps[0]}
            maps |= {name: adaptive_map(e, f0, args.budget, a) for name, a in settings.items()}
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
