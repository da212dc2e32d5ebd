"""docs/results.md's budget table from the kept per-photo rows: the stores' exports made before 2026-12-06 (whose
``pami-path`` rows are the SLIC-50 path, the default then: renamed ``pami-path-slic50`` here) and those of the current
default's run (``default-budget-B.csv``), paired with the current default at each budget; queries, seconds and
overhead per map from ``stats.csv`` (the older rows' as published on 2026-12-05, the default's from its stores'
per-budget ``card.csv``: the overhead needs the bare-forward timings inside the stores' map files, which stay outside
the repository).

    python experiments/budget_table/table.py own-fill    # or grey
"""

from __future__ import annotations

import argparse
import csv
import json
from pathlib import Path

from peephole.evaluation.budgets import TABLE_COLUMNS
from peephole.evaluation.card import cell_text, paired_card

HERE = Path(__file__).resolve().parent
BUDGETS = (25, 50, 100, 500)
#: the method names of the stores before 2026-12-06 that name another map now
RENAMED = {"pami-path": "pami-path-slic50"}
METHODS = (
    "pami-path",
    "pami-path-slic50",
    "pami-superpixels",
    "pami-adaptive",
    "lime",
    "kernel-shap",
    "rise",
    "hsic",
    "occlusion",
)


def scores(condition: str, budget: int) -> dict[str, dict[str, list[float]]]:
    """``{method: {column: per-photo scores}}`` at ``budget``, the photos in the split's order (both files)."""
    rows = []
    for name, renamed in ((f"budget-{budget}.csv", RENAMED), (f"default-budget-{budget}.csv", {})):
        for r in csv.DictReader((HERE / condition / name).open()):
            photo, method = r["id"].rsplit("/", 1)
            rows.append((int(r["seq"]), photo, renamed.get(method, method), json.loads(r["metrics"])))
    out: dict[str, dict[str, list[float]]] = {}
    for _, _, method, metrics in sorted(rows, key=lambda r: r[:2]):
        for c in TABLE_COLUMNS:
            out.setdefault(method, {}).setdefault(c, []).append(float(metrics[c]))
    return out


def table(condition: str) -> list[str]:
    """The Markdown rows of one condition's table: budget, method, queries/img, s/img, overhead, the three columns."""
    stats = {(r["budget"], r["method"]): r for r in csv.DictReader((HERE / "stats.csv").open()) if r["condition"] == condition}
    lines = []
    for b in BUDGETS:
        values = scores(condition, b)
        assert set(values) == set(METHODS) and len({len(v["insertion"]) for v in values.values()}) == 1, condition
        card = {(r["method"], r["column"]): r for r in paired_card(values, reference="pami-path")}
        for m in METHODS:
            s = stats[str(b), m]
            cells = " | ".join(cell_text(card[m, c]) for c in TABLE_COLUMNS)
            lines.append(f"| {b} | {m} | {s['queries']} | {s['seconds']} | {s['overhead']} | {cells} |")
    return lines


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("condition", choices=["own-fill", "grey"])
    print("\n".join(table(p.parse_args().condition)))


if __name__ == "__main__":
    main()
