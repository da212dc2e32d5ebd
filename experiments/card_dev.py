"""HSIC and Sobol attribution against RISE at about 500 queries each, on the development split: cross-fill
insertion/deletion (maps made with blur, scored on mid-grey) and µFidelity (9×9 grid, 20 % of the cells filled
with mid-grey, Pearson), the fill held out from every method. One JSON line per photo and method, so a partial run
still counts what it finished; ``--summary`` prints the table of docs/results.md from that file.

    PYTHONPATH=src python experiments/card_dev.py ../shared/data/imagenet-sample --limit 20 --out card_dev.jsonl
    PYTHONPATH=src python experiments/card_dev.py --summary card_dev.jsonl
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

from peephole.evaluation.report import mean_sem

#: method -> (registered method, options): about 500 queries each (Sobol: 8 designs × (64 cells + 1) = 520).
METHODS = {
    "hsic-500": ("hsic", {"n_designs": 500}),
    "sobol-8": ("sobol", {"n_designs": 8}),
    "rise-500": ("rise", {"n_masks": 500}),
}
MADE_WITH, SCORED_WITH = "blur", "grey"


def measure(folder: str, limit: int, out: Path, step: int, samples: int) -> None:
    import peephole
    from peephole.evaluation.data import correctly_classified
    from peephole.metrics import mu_fidelity, perturbation_curve, self_graded

    model = peephole.load_model("efficientnet-lite0", "onnx")
    done = {(r["photo"], r["method"]) for r in map(json.loads, out.read_text().splitlines())} if out.exists() else set()
    for sample, img in correctly_classified(model, folder, "dev", limit):
        for name, (method, options) in METHODS.items():
            if (sample.path.name, name) in done:
                continue
            t = time.perf_counter()
            e = peephole.explain(model, img, method, targets=sample.label, masker=MADE_WITH, seed=0, **options)
            seconds = time.perf_counter() - t
            row = {"photo": sample.path.name, "method": name, "queries": e.n_queries, "seconds": round(seconds, 2)}
            for mode in ("insertion", "deletion"):
                c = perturbation_curve(model, img, e.maps[0], sample.label, mode, step=step, fill=SCORED_WITH)
                row[mode] = round(c.auc, 5)
                row[f"{mode}_self_graded"] = self_graded(e.params, c.params)
            mf = mu_fidelity(model, img, e.maps[0], sample.label, n_samples=samples, fill=SCORED_WITH)
            row.update(mu_fidelity=round(mf.correlation, 5), mu_fidelity_self_graded=self_graded(e.params, mf.params))
            with out.open("a") as f:
                f.write(json.dumps(row) + "\n")
            print(row, flush=True)


def summary(path: Path) -> None:
    rows = [json.loads(line) for line in path.read_text().splitlines()]
    photos = sorted(
        {r["photo"] for r in rows if all((r["photo"], m) in {(q["photo"], q["method"]) for q in rows} for m in METHODS)}
    )
    by = {(r["photo"], r["method"]): r for r in rows}
    print(f"{len(photos)} photos with every method")
    print("| method | queries | insertion (grey) ↑ | deletion (grey) ↓ | µFidelity ↑ | explain s |")
    print("|---|---|---|---|---|---|")
    for m in METHODS:
        col = {k: mean_sem([by[p, m][k] for p in photos]) for k in ("queries", "insertion", "deletion", "mu_fidelity", "seconds")}
        cell = {k: f"{mean:.3f} ± {se:.3f}" for k, (mean, se) in col.items()}
        print(
            f"| {m} | {col['queries'][0]:.0f} | {cell['insertion']} | {cell['deletion']} | {cell['mu_fidelity']} | "
            f"{col['seconds'][0]:.0f} |"
        )
    print("paired differences against rise-500 (mean ± s.e.):")
    for m in METHODS:
        if m == "rise-500":
            continue
        for k in ("insertion", "deletion", "mu_fidelity"):
            d, se = mean_sem([by[p, m][k] - by[p, "rise-500"][k] for p in photos])
            print(f"  {m} − rise-500, {k}: {d:+.3f} ± {se:.3f}")


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("folder", nargs="?", help="the ImageNet sample folder (labels.csv)")
    p.add_argument("--limit", type=int, default=20, help="correctly classified photos of the dev split")
    p.add_argument("--out", type=Path, default=Path("card_dev.jsonl"))
    p.add_argument("--step", type=int, default=1792, help="pixels per curve step (224·8: 29 steps at 224×224)")
    p.add_argument("--samples", type=int, default=50, help="µFidelity's subsets per photo")
    p.add_argument("--summary", type=Path, help="print the table of a finished (or partial) run and stop")
    a = p.parse_args()
    if a.summary:
        summary(a.summary)
    else:
        measure(a.folder, a.limit, a.out, a.step, a.samples)


if __name__ == "__main__":
    main()
