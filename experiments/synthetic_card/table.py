"""docs/results.md's report card on the synthetic ground-truth set, from the per-item rows kept here.

    python experiments/synthetic_card/table.py keep synth-own own-fill   # the stores' items -> own-fill.csv
    python experiments/synthetic_card/table.py print own-fill           # the docs' rows (or grey)
    python experiments/synthetic_card/table.py print rise-centred-own-fill --reference rise

``keep`` reads every ``budget-B`` store of a ``peephole benchmark --card --synthetic N --budgets ...`` folder and
writes one compact CSV per condition (item, budget, method, queries, the metrics as JSON; failed maps left out);
``print`` pairs every method with PAMI path (or ``--reference``) at each budget
(:func:`peephole.evaluation.card.paired_card`, the card's own pairing) and prints the Markdown rows.
"""

from __future__ import annotations

import argparse
import csv
import json
from functools import lru_cache
from pathlib import Path

import numpy as np

from peephole.evaluation.card import cell_text, paired_card

HERE = Path(__file__).resolve().parent
COLUMNS = (
    "insertion",
    "deletion",
    "µFidelity",
    "seed ρ",
    "relevance mass",
    "mask AUC",
    "insertion (self-graded)",
    "deletion (self-graded)",
)
FIELDS = ("item", "budget", "method", "queries", "metrics")
#: the rows' order (the card's)
METHODS = ("pami-path", "pami-path-seg2", "lime", "kernel-shap", "rise", "rise-centred", "hsic", "sobol", "occlusion", "random")


def keep(folder: Path, condition: str) -> Path:
    """The done items of every ``budget-B`` store in ``folder`` as ``<condition>.csv`` here."""
    from peephole.store.runs import Store

    out = HERE / f"{condition}.csv"
    with out.open("w", newline="", encoding="utf-8") as f:
        w = csv.DictWriter(f, fieldnames=FIELDS)
        w.writeheader()
        for store_dir in sorted(folder.glob("budget-*"), key=lambda p: int(p.name.split("-")[1])):
            with Store(store_dir) as store:
                for r in store.rows():
                    if r["status"] != "done":
                        continue
                    item, method = r["id"].rsplit("/", 1)
                    budget = store_dir.name.split("-")[1]
                    w.writerow(dict(zip(FIELDS, (item, budget, method, r["n_queries"], json.dumps(r["metrics"])))))
    return out


@lru_cache
def rows(condition: str) -> list[dict[str, str]]:
    """The kept rows of ``condition`` (read once)."""
    return list(csv.DictReader((HERE / f"{condition}.csv").open(encoding="utf-8")))


def budgets(condition: str) -> list[int]:
    return sorted({int(r["budget"]) for r in rows(condition)})


def scores(condition: str, budget: int) -> tuple[dict[str, dict[str, list[float]]], dict[str, float]]:
    """``{method: {column: per-item scores, NaN where none}}`` at ``budget`` (items aligned), and each method's mean
    queries per map."""
    mine = [r for r in rows(condition) if int(r["budget"]) == budget]
    items = sorted({r["item"] for r in mine})
    at = {(r["item"], r["method"]): json.loads(r["metrics"]) for r in mine}
    methods = sorted({r["method"] for r in mine}, key=METHODS.index)
    values = {m: {c: [float(at.get((i, m), {}).get(c, np.nan)) for i in items] for c in COLUMNS} for m in methods}
    queries = {m: float(np.mean([float(r["queries"]) for r in mine if r["method"] == m])) for m in methods}
    return values, queries


def table(condition: str, reference: str = "pami-path") -> list[str]:
    """The Markdown rows: budget, method, queries/img, then each of :data:`COLUMNS` (paired with ``reference``)."""
    lines = []
    for b in budgets(condition):
        values, queries = scores(condition, b)
        card = {(r["method"], r["column"]): r for r in paired_card(values, reference=reference)}
        for m in values:
            cells = " | ".join(cell_text(card.get((m, c))) for c in COLUMNS)
            lines.append(f"| {b} | {m} | {queries[m]:.0f} | {cells} |")
    return lines


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = p.add_subparsers(dest="command", required=True)
    k = sub.add_parser("keep")
    k.add_argument("folder", type=Path)
    k.add_argument("condition")
    pr = sub.add_parser("print")
    pr.add_argument("condition")
    pr.add_argument("--reference", default="pami-path", help="the method every other is paired with")
    args = p.parse_args()
    if args.command == "keep":
        print(keep(args.folder, args.condition))
    else:
        print("\n".join(table(args.condition, args.reference)))


if __name__ == "__main__":
    main()
