"""Combine several `peephole benchmark` runs over the same images into one table, paired differences and curves.

Runs of cheap and expensive methods are made separately (the expensive ones take minutes per image);
every method is seeded, so a method scored in two runs gives the same numbers. Only images that every
method scored are kept, so all rows of the table and all paired differences use the same images.

    python experiments/combine_results.py RUN_DIR... --reference pami-superpixels --out DIR
"""

from __future__ import annotations

import argparse
import csv
from pathlib import Path

import numpy as np

from peephole.evaluation.report import mean_sem, plot_curves, write_table

METRICS = ("insertion", "deletion")


def read_runs(dirs: list[Path]) -> tuple[dict[tuple[str, str], dict[str, dict]], list[str]]:
    """``{(method, metric): {image: row}}`` over all runs, and the methods in order of appearance."""
    table: dict[tuple[str, str], dict[str, dict]] = {}
    methods: list[str] = []
    for d in dirs:
        with (d / "rows.csv").open() as f:
            for row in csv.DictReader(f):
                table.setdefault((row["method"], row["metric"]), {})[row["image"]] = row
                if row["method"] not in methods:
                    methods.append(row["method"])
    return table, methods


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("runs", nargs="+", type=Path)
    ap.add_argument(
        "--reference",
        default="pami-superpixels",
        help="method the paired differences are taken from; in a substrate matrix (rows METHOD@S) a name without @ "
        "is paired within each substrate",
    )
    ap.add_argument("--out", type=Path, required=True)
    ap.add_argument("--plot-methods", help="comma-separated methods for the per-substrate figures curves_S.png (default: all)")
    args = ap.parse_args()
    table, methods = read_runs(args.runs)
    stored = {d: np.load(d / "curves.npz") for d in args.runs}
    # curves.npz is rewritten every 5 images: an interrupted run has curves for a prefix of its rows
    with_curves = [set(_run_images(d)[: len(z[z.files[0]])]) for d, z in stored.items()]
    images = sorted(set.intersection(*(set(v) for v in table.values()), *with_curves))
    if not images:
        raise SystemExit("no image was scored by every method")
    auc = {k: np.array([float(v[i]["auc"]) for i in images]) for k, v in table.items()}

    summary = []
    for m in methods:
        row: dict = {"method": m, "n": len(images)}
        for metric in METRICS:
            row[f"{metric} mean"], row[f"{metric} sem"] = mean_sem(auc[(m, metric)])
        per = table[(m, METRICS[0])]
        row["queries/img"] = float(np.mean([float(per[i]["n_queries"]) for i in images]))
        row["s/img"] = float(np.mean([float(per[i]["seconds"]) for i in images]))
        summary.append(row)
    cols = ["method", *[f"{m} {x}" for m in METRICS for x in ("mean", "sem")], "n", "queries/img", "s/img"]
    write_table(summary, cols, args.out / "summary", f"Insertion / deletion on the {len(images)} images every method scored")

    paired = []
    for m in methods:
        ref = reference_of(m, args.reference)
        if m == ref or (ref, METRICS[0]) not in auc:
            continue
        row = {"vs": m}
        for metric in METRICS:
            d = auc[(ref, metric)] - auc[(m, metric)]
            row[f"{metric} diff"], row[f"{metric} sem"] = mean_sem(d)
            row[f"{metric} ref better"] = int((d > 0).sum() if metric == "insertion" else (d < 0).sum())
        paired.append(row)
    cols = ["vs", *[f"{m} {x}" for m in METRICS for x in ("diff", "sem", "ref better")]]
    title = f"{args.reference} minus each method (on the same substrate), paired over {len(images)} images"
    write_table(paired, cols, args.out / "paired", title)

    curves: dict[str, dict[str, list[np.ndarray]]] = {}
    fractions: dict[str, np.ndarray] = {}
    for d, z in stored.items():
        names = _run_images(d)
        keep = [names.index(i) for i in images]
        for key in z.files:
            kind, metric = key.split("__")
            if kind == "fractions":
                fractions[metric] = z[key]
            else:
                curves.setdefault(kind, {})[metric] = list(z[key][keep])
    plot_curves(curves, fractions, args.out / "curves.png")
    shown = args.plot_methods.split(",") if args.plot_methods else None
    for sub in sorted({k.split("@", 1)[1] for k in curves if "@" in k}):  # a substrate matrix: one figure each
        picked = {k.split("@")[0]: v for k, v in curves.items() if k.endswith(f"@{sub}")}
        picked = {m: picked[m] for m in (shown or picked) if m in picked}
        plot_curves(picked, fractions, args.out / f"curves_{sub}.png")
    print((args.out / "summary.md").read_text())
    print((args.out / "paired.md").read_text())


def reference_of(method: str, reference: str) -> str:
    """The row ``method`` is paired with: ``reference``, on ``method``'s substrate when it names none."""
    if "@" in method and "@" not in reference:
        return f"{reference}@{method.split('@', 1)[1]}"
    return reference


def _run_images(run: Path) -> list[str]:
    """The images of one run in the order its curves were stored (the order of its rows)."""
    seen: list[str] = []
    with (run / "rows.csv").open() as f:
        for row in csv.DictReader(f):
            if row["image"] not in seen:
                seen.append(row["image"])
    return seen


if __name__ == "__main__":
    main()
