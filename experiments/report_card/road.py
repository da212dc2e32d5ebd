"""ROAD-filled insertion and deletion of a report card's stored maps (issue 27: a held-out fill no method searches with).

Reads every done item of a card's run store (the maps the card made, ``Store.load``), scores each map's insertion and
deletion with ROAD's noisy linear imputation (Rong et al. 2022, ``fill="road"``) at ``--steps`` coarse steps, and
writes one JSON line per item (resumable: items already in ``--out`` are skipped). ``--summary`` prints, per method,
the mean, the paired difference with ``--reference`` ± paired s.e., and the leaders (tied-first within one paired
s.e. of the best mean), over the photos every method has.

    OMP_NUM_THREADS=1 PYTHONPATH=src python experiments/report_card/road.py card-test-blur --limit 104 --out road-blur.jsonl
    python experiments/report_card/road.py --summary road-blur.jsonl
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import numpy as np

MODES = {"insertion": 1, "deletion": -1}  # which way is better


def score(store_path: str, methods: list[str], limit: int, steps: int, out: Path) -> None:
    import peephole
    from peephole.metrics import perturbation_curve
    from peephole.store.runs import Store

    store = Store(store_path)
    done = {json.loads(line)["id"] for line in out.read_text().splitlines()} if out.exists() else set()
    rows = [r for r in store.rows() if r["status"] == "done" and r["id"].rsplit("/", 1)[1] in methods]
    first = sorted({r["id"].rsplit("/", 1)[0]: int(r["seq"]) for r in rows}.items(), key=lambda kv: kv[1])[:limit]
    keep = {photo for photo, _ in first}
    model = peephole.load_model("efficientnet-lite0", "onnx")
    for r in sorted(rows, key=lambda r: (int(r["seq"]), r["id"])):
        if r["id"] in done or r["id"].rsplit("/", 1)[0] not in keep:
            continue
        e = store.load(r["id"])
        image, saliency, target = e.input, e.maps[0], int(e.targets[0])
        step = -(-int(np.prod(image.shape[:2])) // steps)
        line = {"id": r["id"], "seq": int(r["seq"])}
        for mode in MODES:
            curve = perturbation_curve(model, image, saliency, target, mode, step=step, fill="road", seed=0)
            line[f"{mode} (ROAD)"] = round(float(curve.auc), 6)
        with out.open("a") as f:
            f.write(json.dumps(line) + "\n")
        print(line, flush=True)


def summary(paths: list[Path], reference: str) -> None:
    rows = [json.loads(line) for p in paths for line in p.read_text().splitlines()]
    by = {tuple(r["id"].rsplit("/", 1)): r for r in rows}
    methods = list(dict.fromkeys(m for _, m in by))
    photos = sorted({p for p, _ in by if all((p, m) in by for m in methods)})
    print(f"{len(photos)} photos with every method; mean (Δ paired with {reference} ± paired s.e.), ★ leads")
    for mode, sign in MODES.items():
        key = f"{mode} (ROAD)"
        v = {m: np.array([by[p, m][key] for p in photos]) for m in methods}
        best = max(methods, key=lambda m: sign * v[m].mean())

        def se(d: np.ndarray) -> float:
            return float(d.std(ddof=1) / np.sqrt(len(d)))

        lead = [m for m in methods if m == best or abs((v[m] - v[best]).mean()) <= se(v[m] - v[best])]
        print(f"\n{key}: leads {', '.join(lead)}")
        for m in methods:
            d = v[m] - v[reference]
            star = " ★" if m in lead else ""
            print(f"  {m}: {v[m].mean():.3f} (Δ {d.mean():+.3f} ± {se(d) if m != reference else 0:.3f}){star}")


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("store", nargs="?", help="a report card's run store (peephole benchmark --card --out)")
    p.add_argument("--methods", default="pami-path,lime,kernel-shap,rise,hsic,sobol,random")
    p.add_argument("--limit", type=int, default=104, help="the first LIMIT photos of the card (its seq order)")
    p.add_argument("--steps", type=int, default=10, help="curve steps (each ROAD query solves one sparse system)")
    p.add_argument("--out", type=Path, default=Path("road.jsonl"))
    p.add_argument("--summary", nargs="+", type=Path, help="print the table of these JSON-lines files instead")
    p.add_argument("--reference", default="pami-path")
    a = p.parse_args()
    if a.summary:
        summary(a.summary, a.reference)
    else:
        score(a.store, a.methods.split(","), a.limit, a.steps, a.out)


if __name__ == "__main__":
    main()
