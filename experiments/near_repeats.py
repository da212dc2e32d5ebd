"""Would merging near-repeated parts keep PAMI's map? Measured offline from full Strategy II runs.

The 20 segmentations of Table 3 rarely repeat a part exactly, but many parts nearly repeat a part of
an earlier segmentation. ``pami(merge_iou=τ)`` queries only the first of such parts and reuses its
output (:func:`peephole.core.partition.near_repeats`). From one full run per image (every part's
real output), this script rebuilds the map ``merge_iou=τ`` gives (the same Eq. 1 with the reused
outputs; tested equal to the merged run) without another query and reports, per τ: queries saved, Pearson r with the
full map, and insertion / deletion (on the ``--substrate``) minus the full map's.

    python experiments/near_repeats.py --data ../shared/data/imagenet-sample --split dev --limit 12
"""

from __future__ import annotations

import argparse

import numpy as np

import peephole
from peephole.core.partition import near_repeats
from peephole.core.run import aggregate
from peephole.evaluation.data import correctly_classified
from peephole.evaluation.report import mean_sem
from peephole.metrics.curves import perturbation_curve
from peephole.modalities.image.maskers import MASKERS


def curves(model, img: np.ndarray, heat: np.ndarray, target: int, step: int, masker) -> list[float]:
    """Insertion and deletion AUC of ``heat`` on ``masker``'s substrate."""
    return [perturbation_curve(model, img, heat, target, m, step=step, masker=masker).auc for m in ("insertion", "deletion")]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--data", required=True)
    ap.add_argument("--split", default="dev", choices=("dev", "test"))
    ap.add_argument("--limit", type=int, default=12)
    ap.add_argument("--substrate", default="blur", choices=sorted(MASKERS))
    ap.add_argument("--taus", default="0.99,0.9,0.8")
    ap.add_argument("--step", type=int, default=896)
    args = ap.parse_args()
    taus = [float(t) for t in args.taus.split(",")]
    model = peephole.load_model("efficientnet-lite0")
    sub = MASKERS[args.substrate]()
    rows: dict[float, list[tuple[float, float, float, float]]] = {t: [] for t in taus}
    n = 0
    for n, (s, img) in enumerate(correctly_classified(model, args.data, args.split, args.limit), start=1):
        e = peephole.explain(model, img, "pami", targets=s.label, masker=args.substrate)
        part, scores = e.partition, e.scores[:, [s.label]]
        full = e.maps[0]
        base = curves(model, img, full, s.label, args.step, sub)
        for tau in taus:
            rep = near_repeats(part, tau)
            merged = aggregate(part, scores[rep])[0]
            got = curves(model, img, merged, s.label, args.step, sub)
            r = float(np.corrcoef(full.ravel(), merged.ravel())[0, 1])
            rows[tau].append((1 - len(np.unique(rep)) / len(rep), r, got[0] - base[0], got[1] - base[1]))
        print(f"{n}/{args.limit} {s.path.name}", flush=True)
    print(f"\n{n} {args.split} images, substrate {args.substrate}, full Strategy II map vs near-repeats merged")
    print("| IoU ≥ τ | queries saved | r with the full map | insertion Δ (± s.e.) | deletion Δ (± s.e.) |")
    print("|---|---|---|---|---|")
    for tau, v in rows.items():
        a = np.array(v)
        (di, si), (dd, sd) = mean_sem(a[:, 2]), mean_sem(a[:, 3])
        print(f"| {tau} | {100 * a[:, 0].mean():.1f} % | {a[:, 1].mean():.4f} | {di:+.4f} ± {si:.4f} | {dd:+.4f} ± {sd:.4f} |")


if __name__ == "__main__":
    main()
