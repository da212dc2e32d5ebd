"""Choose the coalition explainer over PAMI's parts on the DEV split (every candidate at 500 queries).

Each candidate is LIME or KernelSHAP (``peephole.methods.lime`` / ``kernel_shap``) on a partition
built from PAMI's segmentations (Table 3): several segmentations are several groups, each with its
own block of coalitions and its own fit, the groups' maps averaged; ``density`` paints w_j / |part j|.
For each substrate (masker = insertion start = deletion end) the script prints every candidate's
insertion and deletion AUC and its paired difference with LIME at its default 1000 samples.

``--set refinements`` measures what was tried on top of the chosen candidate (``lime-pami``): weighing
the segmentations by their fit's R² (``weigh_groups``) and soft mask edges (``FeatheredMasker``, the
substrate with Gaussian-feathered masks; the curves still score with the hard substrate), also on
LIME and on keep-one PAMI.

``--set path`` chooses the settings of ``pami-path`` (the greedy keep-and-hide path over LIME's SLIC-50
superpixels, ``peephole.methods.pami_path``, at most 500 queries): the surrogate's share of the budget
and the candidates per step, plus the path without its hide term (``hide_weight=0``).

    python experiments/coalitions_dev.py --data ../shared/data/imagenet-sample --split dev --limit 12
    python experiments/coalitions_dev.py --data ../shared/data/imagenet-sample --split dev --limit 14 --set refinements
    python experiments/coalitions_dev.py --data ../shared/data/imagenet-sample --split dev --limit 14 --set path
"""

from __future__ import annotations

import argparse
from typing import Any

import peephole
from peephole.evaluation.data import correctly_classified
from peephole.evaluation.report import paired_table
from peephole.metrics.curves import perturbation_curve
from peephole.modalities.image.maskers import MASKERS, FeatheredMasker
from peephole.modalities.image.superpixels import PAPER_SEGMENTATIONS, Segmentation


def slic(n: int) -> Segmentation:
    """One of Table 3's SLIC settings."""
    return Segmentation("slic", {"n_segments": n, "compactness": 20})


LIME_PAMI = {"n_samples": 500, "partition": list(PAPER_SEGMENTATIONS), "density": True}

#: set -> name -> (method, options); the first is the reference of the paired differences.
#: ``feather``: mask with the substrate through ``FeatheredMasker(substrate, sigma=feather)``.
COALITIONS: dict[str, tuple[str, dict[str, Any]]] = {
    "lime (1000, SLIC-50)": ("lime", {"n_samples": 1000}),
    "lime (500, SLIC-50)": ("lime", {"n_samples": 500}),
    "lime, SLIC-30 + SLIC-70, density": ("lime", {"n_samples": 500, "partition": [slic(30), slic(70)], "density": True}),
    "kernel-shap, SLIC-30 + SLIC-70, density": (
        "kernel-shap",
        {"n_samples": 500, "partition": [slic(30), slic(70)], "density": True},
    ),
    "lime, all 20 segmentations, density": ("lime", LIME_PAMI),
}
REFINEMENTS: dict[str, tuple[str, dict[str, Any]]] = {
    "lime (1000, SLIC-50)": ("lime", {"n_samples": 1000}),
    "lime-pami": ("lime", LIME_PAMI),
    "lime-pami, weigh_groups": ("lime", {**LIME_PAMI, "weigh_groups": True}),
    "lime-pami, feathered σ=3": ("lime", {**LIME_PAMI, "feather": 3.0}),
    "lime (1000), feathered σ=3": ("lime", {"n_samples": 1000, "feather": 3.0}),
    "pami (Strategy II)": ("pami", {}),
    "pami (Strategy II), feathered σ=3": ("pami", {"feather": 3.0}),
}
PATH: dict[str, tuple[str, dict[str, Any]]] = {
    "lime (1000, SLIC-50)": ("lime", {"n_samples": 1000}),
    "lime-pami": ("lime", LIME_PAMI),
    "lime (200, SLIC-50)": ("lime", {"n_samples": 200}),
    "pami-path, 200 + path, 3 candidates": ("pami-path", {"n_samples": 200, "candidates": 3}),
    "pami-path, 200 + path, 5 candidates": ("pami-path", {"n_samples": 200, "candidates": 5}),
    "pami-path, 300 + path, 3 candidates": ("pami-path", {"n_samples": 300, "candidates": 3}),
    "pami-path, 300 + path, 5 candidates": ("pami-path", {"n_samples": 300, "candidates": 5}),
    "pami-path, 200 + path, 3 candidates, keep only (w = 0)": (
        "pami-path",
        {"n_samples": 200, "candidates": 3, "hide_weight": 0.0},
    ),
}
SETS = {"coalitions": COALITIONS, "refinements": REFINEMENTS, "path": PATH}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--data", required=True)
    ap.add_argument("--split", default="dev", choices=("dev", "test"))
    ap.add_argument("--limit", type=int, default=12)
    ap.add_argument("--substrates", default="blur,grey")
    ap.add_argument("--step", type=int, default=896)
    ap.add_argument("--set", default="coalitions", choices=sorted(SETS))
    args = ap.parse_args()
    candidates = SETS[args.set]
    model = peephole.load_model("efficientnet-lite0")
    subs = args.substrates.split(",")
    auc = {(sub, c): [] for sub in subs for c in candidates}  # -> [(insertion, deletion, queries)]
    n = 0
    for n, (s, img) in enumerate(correctly_classified(model, args.data, args.split, args.limit), start=1):
        for sub in subs:
            masker = MASKERS[sub]()
            for name, (method, options) in candidates.items():
                opts = dict(options)
                feather = opts.pop("feather", None)
                explainer_masker = sub if feather is None else FeatheredMasker(sub, feather)
                e = peephole.explain(model, img, method, targets=s.label, masker=explainer_masker, **opts)
                ins, dele = (
                    perturbation_curve(model, img, e.maps[0], s.label, m, step=args.step, masker=masker).auc
                    for m in ("insertion", "deletion")
                )
                auc[sub, name].append((ins, dele, e.n_queries))
        print(f"{n}/{args.limit} {s.path.name}", flush=True)
    ref = next(iter(candidates))
    for sub in subs:
        print(f"\n{n} {args.split} images, substrate {sub}; Δ = candidate − {ref}, paired (images better)")
        print(paired_table({name: auc[sub, name] for name in candidates}, ref).replace("| method |", "| candidate |"))


if __name__ == "__main__":
    main()
