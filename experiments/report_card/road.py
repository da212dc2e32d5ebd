"""ROAD-filled insertion and deletion of a report card's stored maps (issue 27: a held-out fill no method searches with).

Reads every done item of a card's run store (the maps the card made, ``Store.load``), scores each map's insertion and
deletion with ROAD's noisy linear imputation (Rong et al. 2022, ``fill="road"``) at ``--steps`` coarse steps, and
writes one JSON line per item (resumable: items already in ``--out`` are skipped). ``--summary`` prints the table as the card
writes it (per method the mean, the paired difference with ``--reference`` ± paired s.e., ★ for the leaders:
tied-first within one paired s.e. of the best mean), over the photos every method has.

    OMP_NUM_THREADS=1 PYTHONPATH=src python experiments/report_card/road.py card-test-blur --limit 104 --out road-blur.jsonl
    python experiments/report_card/road.py --summary road-blur.jsonl
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import numpy as np

MODES = ("insertion", "deletion")


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


def rows_of(spec: str) -> list[dict]:
    """The rows of ``FILE`` or, for ``FILE:M1,M2``, those of methods M1 and M2 only (to take each method's maps from
    the card whose fill they were made with)."""
    path, _, only = spec.partition(":")
    rows = [json.loads(line) for line in Path(path).read_text().splitlines()]
    return [r for r in rows if not only or r["id"].rsplit("/", 1)[1] in only.split(",")]


def table(paths: list[str], reference: str, order: list[str]) -> tuple[int, str]:
    """The photos every method has, and the Markdown table of their ROAD columns: each cell the mean, the paired Δ
    with ``reference`` ± paired s.e. and ★ for the leaders, as the card writes them (``paired_card``, ``cell_text``);
    methods in ``order``; ``paths``: :func:`rows_of` specs."""
    from peephole.evaluation.card import cell_text, paired_card

    rows = [r for spec in paths for r in rows_of(spec)]
    by = {tuple(r["id"].rsplit("/", 1)): r for r in rows}
    methods = [m for m in order if any(k == m for _, k in by)]
    photos = sorted({p for p, _ in by if all((p, m) in by for m in methods)})
    columns = [f"{mode} (ROAD)" for mode in MODES]
    scores = {m: {c: [by[p, m][c] for p in photos] for c in columns} for m in methods}
    cells = {(r["method"], r["column"]): r for r in paired_card(scores, reference)}
    lines = ["| method | " + " | ".join(columns) + " |", "|---" * (len(columns) + 1) + "|"]
    lines += [f"| {m} | " + " | ".join(cell_text(cells.get((m, c))) for c in columns) + " |" for m in methods]
    lines.append("| leads | " + " | ".join(", ".join(m for m in methods if cells[m, c]["lead"]) for c in columns) + " |")
    return len(photos), "\n".join(lines)


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("store", nargs="?", help="a report card's run store (peephole benchmark --card --out)")
    p.add_argument("--methods", default="pami-path,lime,kernel-shap,rise,hsic,sobol,random")
    p.add_argument("--limit", type=int, default=104, help="the first LIMIT photos of the card (its seq order)")
    p.add_argument("--steps", type=int, default=10, help="curve steps (each ROAD query solves one sparse system)")
    p.add_argument("--out", type=Path, default=Path("road.jsonl"))
    p.add_argument("--summary", nargs="+", help="print the table of these JSON-lines files (FILE or FILE:M1,M2) instead")
    p.add_argument("--reference", default="pami-path")
    a = p.parse_args()
    if a.summary:
        n, text = table(a.summary, a.reference, a.methods.split(","))
        print(f"{n} photos with every method\n{text}")
    else:
        score(a.store, a.methods.split(","), a.limit, a.steps, a.out)


if __name__ == "__main__":
    main()
