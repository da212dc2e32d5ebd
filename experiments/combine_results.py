"""Combine several `peephole benchmark` runs over the same images into one table, paired differences and curves.

Runs of cheap and expensive methods are made separately (the expensive ones take minutes per image);
every method is seeded, so a method scored in two runs gives the same numbers. Only images that every
method scored are kept, so all rows of the table and all paired differences use the same images. Each run
folder is the benchmark's run store: one item per (image, method), id ``IMAGE/METHOD``, AUCs in its metrics
and curves in its Explanation's extras (``peephole.evaluation.runner``).

    python experiments/combine_results.py RUN_DIR... --reference pami-superpixels --out DIR
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np

from peephole.evaluation.report import mean_sem, plot_curves, write_table
from peephole.store.runs import Store

METRICS = ("insertion", "deletion")


def read_runs(dirs: list[Path]) -> tuple[dict[str, dict[str, dict]], list[str], dict[str, np.ndarray]]:
    """``{method: {image: stored row (with its run's folder)}}`` over all runs, the methods in order of appearance,
    and the curves' x axis (fraction of pixels) per metric."""
    table: dict[str, dict[str, dict]] = {}
    methods: list[str] = []
    fractions: dict[str, np.ndarray] = {}
    for d in dirs:
        with Store(d) as store:
            size, step = store.settings["size"], store.settings["step"]
            rows = store.rows("done")
        for row in rows:
            image, _, method = row["id"].partition("/")
            table.setdefault(method, {})[image] = {**row, "run": d}
            if method not in methods:
                methods.append(method)
        if rows and not fractions:
            with np.load(d / rows[0]["file"]) as z:
                for m in METRICS:
                    n = len(z[f"extras/{m}_curve"])
                    fractions[m] = np.minimum(np.arange(n) * step, size * size) / (size * size)
    return table, methods, fractions


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
    table, methods, fractions = read_runs(args.runs)
    images = sorted(set.intersection(*(set(v) for v in table.values())))
    if not images:
        raise SystemExit("no image was scored by every method")
    auc = {(m, k): np.array([float(v[i]["metrics"][k]) for i in images]) for m, v in table.items() for k in METRICS}

    summary = []
    for m in methods:
        row: dict = {"method": m, "n": len(images)}
        for metric in METRICS:
            row[f"{metric} mean"], row[f"{metric} sem"] = mean_sem(auc[(m, metric)])
        per = table[m]
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

    curves: dict[str, dict[str, list[np.ndarray]]] = {m: {k: [] for k in METRICS} for m in methods}
    for m in methods:
        for i in images:
            row = table[m][i]
            with np.load(row["run"] / row["file"]) as z:
                for k in METRICS:
                    curves[m][k].append(z[f"extras/{k}_curve"])
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


if __name__ == "__main__":
    main()
