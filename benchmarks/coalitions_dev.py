"""Choose the coalition explainer over PAMI's parts on the DEV split (every candidate at 500 queries).

Each candidate is LIME or KernelSHAP (``peephole.methods.lime`` / ``kernel_shap``) on a partition
built from PAMI's segmentations (Table 3): several segmentations are several groups, each with its
own block of coalitions and its own fit, the groups' maps averaged; ``density`` paints w_j / |part j|.
For each substrate (masker = insertion start = deletion end) the script prints every candidate's
insertion and deletion AUC and its paired difference with LIME at its default 1000 samples.

    python benchmarks/coalitions_dev.py --data ../shared/data/imagenet-sample --split dev --limit 12
"""

from __future__ import annotations

import argparse
from typing import Any

import numpy as np

import peephole
from peephole.benchmark.data import correctly_classified
from peephole.benchmark.report import mean_sem
from peephole.metrics.curves import perturbation_curve
from peephole.modalities.image.maskers import MASKERS
from peephole.modalities.image.superpixels import PAPER_SEGMENTATIONS, Segmentation


def slic(n: int) -> Segmentation:
    """One of Table 3's SLIC settings."""
    return Segmentation("slic", {"n_segments": n, "compactness": 20})


#: name -> (method, options); the first is the reference of the paired differences.
CANDIDATES: dict[str, tuple[str, dict[str, Any]]] = {
    "lime (1000, SLIC-50)": ("lime", {"n_samples": 1000}),
    "lime (500, SLIC-50)": ("lime", {"n_samples": 500}),
    "lime, SLIC-30 + SLIC-70, density": ("lime", {"n_samples": 500, "partition": [slic(30), slic(70)], "density": True}),
    "kernel-shap, SLIC-30 + SLIC-70, density": (
        "kernel-shap",
        {"n_samples": 500, "partition": [slic(30), slic(70)], "density": True},
    ),
    "lime, all 20 segmentations, density": ("lime", {"n_samples": 500, "partition": list(PAPER_SEGMENTATIONS), "density": True}),
}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--data", required=True)
    ap.add_argument("--split", default="dev", choices=("dev", "test"))
    ap.add_argument("--limit", type=int, default=12)
    ap.add_argument("--substrates", default="blur,grey")
    ap.add_argument("--step", type=int, default=896)
    args = ap.parse_args()
    model = peephole.load_model("efficientnet-lite0")
    subs = args.substrates.split(",")
    auc = {(sub, c): [] for sub in subs for c in CANDIDATES}  # -> [(insertion, deletion, queries)]
    n = 0
    for n, (s, img) in enumerate(correctly_classified(model, args.data, args.split, args.limit), start=1):
        for sub in subs:
            masker = MASKERS[sub]()
            for name, (method, options) in CANDIDATES.items():
                e = peephole.explain(model, img, method, targets=s.label, masker=sub, **options)
                ins, dele = (
                    perturbation_curve(model, img, e.maps[0], s.label, m, step=args.step, masker=masker).auc
                    for m in ("insertion", "deletion")
                )
                auc[sub, name].append((ins, dele, e.n_queries))
        print(f"{n}/{args.limit} {s.path.name}", flush=True)
    ref = next(iter(CANDIDATES))
    for sub in subs:
        base = np.array(auc[sub, ref])
        print(f"\n{n} {args.split} images, substrate {sub}; Δ = candidate − {ref}, paired (images better)")
        print("| candidate | queries | insertion | Δ insertion | deletion | Δ deletion |\n|---|---|---|---|---|---|")
        for name in CANDIDATES:
            a = np.array(auc[sub, name])
            d = a[:, :2] - base[:, :2]
            (di, si), (dd, sd) = mean_sem(d[:, 0]), mean_sem(d[:, 1])
            print(
                f"| {name} | {a[:, 2].mean():.0f} | {a[:, 0].mean():.4f} | {di:+.4f} ± {si:.4f} ({(d[:, 0] > 0).sum()}) "
                f"| {a[:, 1].mean():.4f} | {dd:+.4f} ± {sd:.4f} ({(d[:, 1] < 0).sum()}) |"
            )


if __name__ == "__main__":
    main()
