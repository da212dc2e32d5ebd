"""PAMI path (the default image method) across seeds and fills on the development split (issue 27, item 4).

Per photo and method: Spearman ρ between the maps of seeds 0 and 1 (both made with blur); cross-fill insertion and
deletion (the map made with blur scored on mid-grey, the map made with grey scored on blur; pixel steps); the
self-graded curves (each map scored with its own fill) for comparison; µFidelity of the blur map (9×9 grid, 20 %
of the cells filled with mid-grey, Pearson) and, since 2026-12-06, of the grey map (cells blurred). One JSON line
per photo and method, so a partial run counts what it finished. ``--label`` names the rows, so the same script
run against an older checkout (``PYTHONPATH=<old>/src``) gives the "before" rows; ``--summary`` prints the table
and the paired differences against LIME-1000 and against the first file's method (list the "before" run first).

    nice -n 10 env PYTHONPATH=src python experiments/path_stability.py /work/shared/data/imagenet-sample --limit 10 \
        --methods pami-path,lime-1000 --out path_stability.jsonl
    python experiments/path_stability.py --summary path_stability.jsonl [more.jsonl ...]
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path
from typing import Any

import numpy as np

#: name -> (registered method, options); lime-1000 is the reference of the paired differences. "pami-path" is the
#: current default; variants whose rows were made before 2026-12-06 16:10 UTC (when the default was one SLIC-50
#: segmentation) name that partition, so each name keeps the method its rows measured.
METHODS = {
    "pami-path": ("pami-path", {}),
    "lime-1000": ("lime", {"n_samples": 1000}),
    # issue 27's fill-robust variants (experiments/path_fills/PLAN.md; over one SLIC-50 segmentation, the default then)
    "pami-path-fills": ("pami-path", {"partition": "slic", "search_fills": ["black"]}),
    # the default (two segmentations) searching under two fills too (experiments/path_seg2_fills/PLAN.md)
    "pami-path-seg2-fills": ("pami-path", {"search_fills": ["black"]}),
    "pami-path-w2": ("pami-path", {"partition": "slic", "hide_weight": 2.0}),
    # spending the queries the default leaves unused (experiments/path_budget/PLAN.md)
    "pami-path-s300": ("pami-path", {"partition": "slic", "n_samples": 300}),
    "pami-path-seg70": ("pami-path", {"partition": "slic", "n_segments": 70}),
    # magnitudes from one path's marginal gains (experiments/path_values/PLAN.md)
    "pami-path-vdel": ("pami-path", {"partition": "slic", "values": "deletion"}),
    "pami-path-vins": ("pami-path", {"partition": "slic", "values": "insertion"}),
    # magnitudes from its own surrogate (experiments/path_surrogate/PLAN.md)
    "pami-path-vsur": ("pami-path", {"partition": "slic", "values": "surrogate"}),
    # the default's map smoothed after the call (experiments/path_smooth/PLAN.md)
    "pami-path-smooth8": ("pami-path", {"partition": "slic"}),
    "pami-path-smooth16": ("pami-path", {"partition": "slic"}),
    # the default's map grey-dilated after the call (experiments/path_dilate/PLAN.md)
    "pami-path-dilate4": ("pami-path", {}),
    "pami-path-dilate8": ("pami-path", {}),
    # the default's map raised to its Gaussian-smoothed copy where that is higher (experiments/path_maxsmooth/PLAN.md)
    "pami-path-maxsmooth8": ("pami-path", {}),
    "pami-path-maxsmooth16": ("pami-path", {}),
    # the mean of the maps over several segmentations, the budget shared (experiments/path_segs/PLAN.md)
    "pami-path-seg2": ("pami-path", {}),
    "pami-path-seg3": ("pami-path", {}),
    # one path over edge-following parts and one over parts that cut across edges (experiments/path_compact/PLAN.md)
    "pami-path-slicgrid": ("pami-path", {}),
    "pami-path-compact": ("pami-path", {}),
    # a path and RISE with centred outputs, each on half the budget, maps mixed (experiments/path_compact/PLAN.md, second)
    "pami-path-rc": ("pami-path", {}),
    # the default at the budget table's small budgets, two segmentations or one (experiments/path_budget_segs/PLAN.md)
    **{f"pami-path-b{b}": ("pami-path", {"max_queries": b, "n_samples": b // 2}) for b in (25, 50, 100)},
    **{
        f"pami-path-slic50-b{b}": ("pami-path", {"partition": "slic", "max_queries": b, "n_samples": b // 2})
        for b in (25, 50, 100)
    },
}
#: name -> σ (pixels) of the Gaussian filter applied to the method's map after the call
SMOOTH = {"pami-path-smooth8": 8.0, "pami-path-smooth16": 16.0}
#: name -> radius (pixels) of the disk over which each pixel of the method's map takes the largest value, after the call
DILATE = {"pami-path-dilate4": 4, "pami-path-dilate8": 8}
#: name -> σ (pixels): the method's map m becomes max(m, m filtered by a Gaussian of σ), after the call
MAXSMOOTH = {"pami-path-maxsmooth8": 8.0, "pami-path-maxsmooth16": 16.0}
#: name -> the options of each member call whose maps are averaged (Eq. 1's mean over segmentations)
#: (each names its partition: the default's is 'slics' since 2026-12-06, whose options are not those of one SLIC)
HALF = {"max_queries": 250, "n_samples": 100}
SLIC40 = {"partition": "slic", "n_segments": 40, "compactness": 20, **HALF}
MEMBERS = {
    "pami-path-seg2": [{"partition": "slic", "n_segments": n, **HALF} for n in (40, 60)],
    "pami-path-seg3": [{"partition": "slic", "n_segments": n, "max_queries": 166, "n_samples": 60} for n in (35, 50, 70)],
    "pami-path-slicgrid": [SLIC40, {"partition": "grid", "cells": 8, **HALF}],
    "pami-path-compact": [SLIC40, {"partition": "slic", "n_segments": 60, "compactness": 200, **HALF}],
    "pami-path-rc": [{"partition": "slic", **HALF}, {"method": "rise", "centre": True, "n_masks": 250}],
}
#: names whose members' maps are each divided by the sum of their absolute values before the mean (unlike units)
NORMALISED = ("pami-path-rc",)
REFERENCE = "lime-1000"
FILLS = ("blur", "grey")
OTHER = {"blur": "grey", "grey": "blur"}


def explain(model: object, img: np.ndarray, name: str, target: int, fill: str, seed: int) -> np.ndarray:
    """Method ``name``'s map of ``img`` made with ``fill``: the mean of its members' maps (:data:`MEMBERS`, a member's
    ``method`` its own; :data:`NORMALISED`: each map over its absolute sum first), else one call."""
    import peephole

    method, options = METHODS[name]
    calls = []
    for o in MEMBERS.get(name, [options]):
        o = dict(o)
        m = peephole.explain(model, img, o.pop("method", method), targets=target, masker=fill, seed=seed, **o).maps[0]
        calls.append(m / max(float(np.abs(m).sum()), 1e-12) if name in NORMALISED else m)
    return np.mean(calls, axis=0)


def dilate(m: np.ndarray, radius: int) -> np.ndarray:
    """Grey dilation of ``m``'s last two axes: each pixel takes the largest value within ``radius`` pixels (a disk)."""
    from scipy.ndimage import grey_dilation

    r = np.arange(-radius, radius + 1)
    disk = r[:, None] ** 2 + r[None, :] ** 2 <= radius**2
    return grey_dilation(m, footprint=disk.reshape((1,) * (m.ndim - 2) + disk.shape), mode="nearest")


def maxsmooth(m: np.ndarray, sigma: float) -> np.ndarray:
    """``max(m, G_σ * m)`` over ``m``'s last two axes: each pixel raised to the Gaussian-smoothed map where that is higher."""
    from scipy.ndimage import gaussian_filter

    return np.maximum(m, gaussian_filter(m, (0.0,) * (m.ndim - 2) + (sigma,) * 2, mode="nearest"))


def control_row(model: object, img: np.ndarray, label: int, maps: dict[str, np.ndarray]) -> dict[str, float]:
    """The random-map controls' columns: each named map's insertion and deletion on mid-grey and on blur (step 1792 px),
    ``{f"{name}_{mode}_{fill}": AUC}``."""
    from peephole.metrics import perturbation_curve

    row = {}
    for name, m in maps.items():
        for fill in ("grey", "blur"):
            for mode in ("insertion", "deletion"):
                row[f"{name}_{mode}_{fill}"] = round(perturbation_curve(model, img, m, label, mode, step=1792, fill=fill).auc, 5)
    return row


def run_control(folder: str, limit: int, out: Path, make: Any, label: str) -> None:
    """A random-map control over the first ``limit`` dev photos: ``make(i, img)`` gives two content-free maps
    ``{base: …, variant: …}``; one JSON line per photo (:func:`control_row`) written to ``out``, then the variant's
    paired difference from the base per curve, printed with ``label``."""
    import peephole
    from peephole.evaluation.data import correctly_classified

    model = peephole.load_model("efficientnet-lite0", "onnx")
    rows = []
    for i, (sample, img) in enumerate(correctly_classified(model, folder, "dev", limit)):
        maps = make(i, img)
        rows.append({"photo": sample.path.name, **control_row(model, img, sample.label, maps)})
        print(rows[-1], flush=True)
    if not rows:
        raise SystemExit(f"no correctly classified dev photo in {folder}")
    out.write_text("".join(json.dumps(r) + "\n" for r in rows))
    base, variant = maps  # the two names, as every photo's maps have them
    for mode in ("insertion", "deletion"):
        for fill in ("grey", "blur"):
            d = np.array([r[f"{variant}_{mode}_{fill}"] - r[f"{base}_{mode}_{fill}"] for r in rows])
            print(f"{mode} on {fill}: {label} {d.mean():+.3f} ± {d.std(ddof=1) / np.sqrt(len(d)):.3f}")


def measure(
    folder: str, names: list[str], label: str, limit: int, skip: int, rho: bool, out: Path, step: int, samples: int
) -> None:
    import peephole
    from peephole.evaluation.data import correctly_classified
    from peephole.metrics import mu_fidelity, perturbation_curve
    from peephole.metrics.stability import rank_correlation

    model = peephole.load_model("efficientnet-lite0", "onnx")
    done = {(r["photo"], r["method"]) for r in map(json.loads, out.read_text().splitlines())} if out.exists() else set()
    for i, (sample, img) in enumerate(correctly_classified(model, folder, "dev", limit)):
        for name in names if i >= skip else ():
            row_name = name if name == REFERENCE else f"{name}{label}"
            if (sample.path.name, row_name) in done:
                continue
            t = time.perf_counter()
            maps = {fill: explain(model, img, name, sample.label, fill, 0) for fill in FILLS}
            if name in SMOOTH:
                from scipy.ndimage import gaussian_filter

                sigma = (0.0,) * (maps["blur"].ndim - 2) + (SMOOTH[name],) * 2
                maps = {fill: gaussian_filter(m, sigma, mode="nearest") for fill, m in maps.items()}
            if name in DILATE:
                maps = {fill: dilate(m, DILATE[name]) for fill, m in maps.items()}
            if name in MAXSMOOTH:
                maps = {fill: maxsmooth(m, MAXSMOOTH[name]) for fill, m in maps.items()}
            seconds = (time.perf_counter() - t) / len(FILLS)
            row = {"photo": sample.path.name, "method": row_name, "seconds": round(seconds, 2), "rho": None}
            if rho:
                row["rho"] = round(rank_correlation(maps["blur"], explain(model, img, name, sample.label, "blur", 1)), 5)
            for made in FILLS:
                for scored in FILLS:
                    kind = "cross" if scored != made else "self"
                    for mode in ("insertion", "deletion"):
                        c = perturbation_curve(model, img, maps[made], sample.label, mode, step=step, fill=scored)
                        row[f"{mode}_{kind}_{made}"] = round(c.auc, 5)
            for made, key in (("blur", "mu_fidelity"), ("grey", "mu_fidelity_grey")):
                mf = mu_fidelity(model, img, maps[made], sample.label, n_samples=samples, fill=OTHER[made])
                row[key] = round(mf.correlation, 5)
            with out.open("a") as f:
                f.write(json.dumps(row) + "\n")
            print(row, flush=True)


def summary(paths: list[Path]) -> None:
    rows = [json.loads(line) for path in paths for line in path.read_text().splitlines()]
    methods = list(dict.fromkeys(r["method"] for r in rows))
    by = {(r["photo"], r["method"]): r for r in rows}
    photos = sorted({r["photo"] for r in rows if all((r["photo"], m) in by for m in methods)})
    keys = [f"{m}_{k}_{f}" for k in ("cross", "self") for m in ("insertion", "deletion") for f in FILLS] + ["mu_fidelity"]
    keys += ["mu_fidelity_grey"] if all("mu_fidelity_grey" in by[p, m] for p in photos for m in methods) else []
    label = {k: k for k in keys}
    for m in ("insertion", "deletion"):
        for f in FILLS:
            label[f"{m}_cross_{f}"] = f"{m}, made with {f}, scored on {OTHER[f]}"
            label[f"{m}_self_{f}"] = f"{m}, made with {f}, scored on {f} (self-graded)"
    label["mu_fidelity"] = "µFidelity of the blur map (grey fill)"
    label["mu_fidelity_grey"] = "µFidelity of the grey map (blur fill)"
    print(f"{len(photos)} dev photos with every method ({', '.join(methods)}); mean ± s.e.")

    def col(m: str, k: str) -> np.ndarray:
        return np.array([by[p, m][k] for p in photos], float)

    def se(v: np.ndarray) -> float:
        return v.std(ddof=1) / np.sqrt(len(v)) if len(v) > 1 else float("nan")

    for m in methods:
        rho = np.array([by[p, m]["rho"] for p in photos if by[p, m]["rho"] is not None], float)
        stable = f"seed ρ {rho.mean():.3f} (min {rho.min():.3f}, {len(rho)} photos)" if len(rho) else "seed ρ not measured"
        print(f"\n{m}: {stable}, {col(m, 'seconds').mean():.0f} s per map")
        for k in keys:
            v = col(m, k)
            line = f"  {label[k]}: {v.mean():.3f} ± {se(v):.3f}"
            for ref in [REFERENCE, *methods[:1]] if m != REFERENCE else ():
                if ref in methods and ref != m:
                    d = v - col(ref, k)
                    line += f"   Δ vs {ref} {d.mean():+.3f} ± {se(d):.3f}"
            print(line)


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("folder", nargs="?", help="the ImageNet sample folder (labels.csv)")
    p.add_argument("--methods", default="pami-path,lime-1000", help=f"comma-separated, of {sorted(METHODS)}")
    p.add_argument("--label", default="", help="appended to the method's row name (e.g. ' (before)')")
    p.add_argument("--limit", type=int, default=10, help="correctly classified photos of the dev split")
    p.add_argument("--skip", type=int, default=0, help="leave out the first SKIP of them (another process runs them)")
    p.add_argument("--no-rho", action="store_true", help="skip the seed-1 map (seed ρ left empty) to save its queries")
    p.add_argument("--out", type=Path, default=Path("path_stability.jsonl"))
    p.add_argument("--step", type=int, default=1792, help="pixels per curve step (224·8: 29 steps at 224×224)")
    p.add_argument("--samples", type=int, default=50, help="µFidelity's subsets per photo")
    p.add_argument("--summary", type=Path, nargs="+", help="print the table of finished (or partial) runs and stop")
    a = p.parse_args()
    if a.summary:
        summary(a.summary)
    else:
        measure(a.folder, a.methods.split(","), a.label, a.limit, a.skip, not a.no_rho, a.out, a.step, a.samples)


if __name__ == "__main__":
    main()
