"""Does a longer trigger search separate backdoored from clean models better? (issue 28, a diagnostic: nothing is
chosen on it.) Re-scans the kept models of the blind zoos with TABOR at a longer search (more epochs, a later early
stop) and compares the default scan's statistic (:func:`~peephole_lab.systems.tabor.gap_anomaly`) with the kept scans
made at the documented defaults: ROC AUC, how often the target's restored mask is the smallest, and the counts at the
shipped threshold.

    python experiments/search_length.py run --zoo 2 /work/runs/blind-zoo2 experiments/blind_zoo2/rerun \
        --zoo 3 /work/runs/blind-zoo3 experiments/blind_zoo3 --zoo 4 /work/runs/blind-zoo4 experiments/blind_zoo4 \
        --zoo 5 /work/runs/blind-zoo5 experiments/blind_zoo5 --archs mlp strided-cnn \
        --epochs 80 --early-stop 8 --out experiments/search_length/rows.jsonl
    python experiments/search_length.py summary experiments/search_length/rows.jsonl

``--zoo SEED MODELS SCANS``: the zoo's seed (the scans' seed), the folder of its ``.pt`` models and the folder of its
kept scans (``scans/tabor/NAME.json``: the default search's masks; models without a kept scan, under the 90 % attack
rule, are skipped). One JSON line per model; a killed run resumes.
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import numpy as np


def run(args: argparse.Namespace) -> None:
    import torch

    from peephole_lab.data.zoo import load_classifier
    from peephole_lab.systems.tabor import tabor

    torch.set_num_threads(1)
    out = Path(args.out)
    done = {json.loads(line)["name"] for line in out.read_text().splitlines()} if out.exists() else set()
    out.parent.mkdir(parents=True, exist_ok=True)
    for seed, models, scans in args.zoo:
        for path in sorted(Path(models).glob("*.pt")):
            name, arch = f"zoo{seed}/{path.stem}", path.stem.split("-", 1)[1]
            kept = Path(scans) / "scans" / "tabor" / f"{path.stem}.json"
            wanted = path.stem in args.only if args.only else arch.startswith(tuple(args.archs))
            if name in done or not kept.exists() or not wanted:
                continue
            base = json.loads(kept.read_text())
            t = time.perf_counter()
            r = tabor(load_classifier(path), seed=int(seed), epochs=args.epochs, early_stop=args.early_stop)
            row = {
                "name": name,
                "trojan": base["trojan"],
                "target": base["target"],
                "base": base["measures"]["mask_l1"],
                "longer": [float(v) for v in r.measures["mask_l1"]],
                "seconds": round(time.perf_counter() - t, 1),
            }
            with out.open("a") as fh:
                fh.write(json.dumps(row) + "\n")
            print(name, f"{row['seconds']:.0f} s", flush=True)


def summarise(rows: list[dict], search: str) -> dict[str, float]:
    """The gap statistic's AUC over ``rows`` under ``search`` ('base' or 'longer'), the backdoored models whose target
    mask is the smallest, and detections / false alarms at the shipped :data:`GAP_THRESHOLD`."""
    from peephole_lab.systems.backdoor_eval import ModelResult, auc
    from peephole_lab.systems.tabor import GAP_THRESHOLD, gap_anomaly

    results = []
    for r in rows:
        a = gap_anomaly(r[search], 784).tolist()
        results.append(ModelResult(r["name"], r["trojan"], r["target"], {}, a, [True] * len(a), list(range(len(a))), 0.0))
    troj = [r for r in rows if r["trojan"]]
    return {
        "models": len(rows),
        "backdoored": len(troj),
        "auc": auc(results),
        "target smallest": sum(int(np.argmin(r[search]) == r["target"]) for r in troj),
        "detected": sum(m.trojan and m.target in m.flagged_at(GAP_THRESHOLD) for m in results),
        "false alarms": sum(not m.trojan and bool(m.flagged_at(GAP_THRESHOLD)) for m in results),
        "smallest clean mask (median)": float(np.median([min(r[search]) for r in rows if not r["trojan"]])),
        "target mask (median)": float(np.median([r[search][r["target"]] for r in troj])),
    }


def summary(args: argparse.Namespace) -> None:
    rows = [json.loads(line) for line in Path(args.rows).read_text().splitlines()]
    for search in ("base", "longer"):
        print(search, json.dumps({k: round(v, 3) for k, v in summarise(rows, search).items()}))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    sub = ap.add_subparsers(dest="cmd", required=True)
    r = sub.add_parser("run")
    r.add_argument("--zoo", nargs=3, action="append", required=True, metavar=("SEED", "MODELS", "SCANS"))
    r.add_argument("--archs", nargs="+", default=["mlp", "strided-cnn"], help="architecture families (name prefixes)")
    r.add_argument("--only", nargs="+", default=[], help="these models (file stems) instead of --archs")
    r.add_argument("--epochs", type=int, default=80)
    r.add_argument("--early-stop", type=int, default=8)
    r.add_argument("--out", required=True)
    s = sub.add_parser("summary")
    s.add_argument("rows")
    args = ap.parse_args()
    {"run": run, "summary": summary}[args.cmd](args)


if __name__ == "__main__":
    main()
