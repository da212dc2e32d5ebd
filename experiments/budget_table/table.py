"""docs/results.md's budget table from the kept per-photo rows: the stores' exports made before 2026-12-06 (whose
``pami-path`` rows are the SLIC-50 path: ``pami-path-slic50`` here), those of the two-segmentation path's run
(``default-budget-B.csv``: ``pami-path-seg2`` here) and RISE with centred outputs (2026-12-07,
``rise-centred/budget-B.csv``, the same maps under both conditions), paired with the default at each budget — the
library's PAMI path at that ``max_queries`` (since the evening of 2026-12-06 one SLIC-50 segmentation at <= 50
queries, two segmentations above), named ``pami-path`` in the table; queries, seconds and overhead per map from
``stats.csv`` (the older rows' as published on 2026-12-05, the later rows' from their stores' per-budget
``card.csv``: the overhead needs the bare-forward timings inside the stores' map files, which stay outside the
repository).

    python experiments/budget_table/table.py own-fill    # or grey
"""

from __future__ import annotations

import argparse
import csv
import json
from pathlib import Path

from peephole.evaluation.budgets import TABLE_COLUMNS
from peephole.evaluation.card import cell_text, paired_card
from peephole.modalities import get_modality

HERE = Path(__file__).resolve().parent
BUDGETS = (25, 50, 100, 500)
#: the method names of each file's rows -> the names here
RENAMED = {"budget": {"pami-path": "pami-path-slic50"}, "default-budget": {"pami-path": "pami-path-seg2"}}
#: the default's partition -> the rows that are its maps
DEFAULT_ROWS = {"slic": "pami-path-slic50", "slics": "pami-path-seg2"}
#: rows added later in their own stores, one file per budget for both conditions (``<method>/budget-B.csv``): methods
#: that search with grey under both, so that their maps and scores do not depend on the condition
ADDED = ("rise-centred",)
#: every budget's rows, the default (``pami-path``) first, then the other PAMI path
OTHERS = ("pami-superpixels", "pami-adaptive", "lime", "kernel-shap", "rise", "rise-centred", "hsic", "occlusion")


def default_rows(budget: int) -> str:
    """The rows that are the default's maps at ``budget``: those of the partition the library's PAMI path takes."""
    return DEFAULT_ROWS[get_modality("image").defaults("pami-path", {"max_queries": budget})["partition"]]


def methods(budget: int) -> tuple[str, ...]:
    """The table's rows at ``budget``: ``pami-path`` (the default), the other PAMI path, the rest."""
    other = next(v for v in DEFAULT_ROWS.values() if v != default_rows(budget))
    return ("pami-path", other, *OTHERS)


def scores(condition: str, budget: int) -> dict[str, dict[str, list[float]]]:
    """``{method: {column: per-photo scores}}`` at ``budget``, the photos in the split's order (both files)."""
    rows, default = [], default_rows(budget)
    files = [(HERE / condition / f"{prefix}-{budget}.csv", renamed) for prefix, renamed in RENAMED.items()]
    for path, renamed in files + [(HERE / m / f"budget-{budget}.csv", {}) for m in ADDED]:
        for r in csv.DictReader(path.open()):
            photo, method = r["id"].rsplit("/", 1)
            method = renamed.get(method, method)
            method = "pami-path" if method == default else method
            rows.append((int(r["seq"]), photo, method, json.loads(r["metrics"])))
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
        assert set(values) == set(methods(b)) and len({len(v["insertion"]) for v in values.values()}) == 1, condition
        card = {(r["method"], r["column"]): r for r in paired_card(values, reference="pami-path")}
        for m in methods(b):
            s = stats[str(b), default_rows(b) if m == "pami-path" else m]
            cells = " | ".join(cell_text(card[m, c]) for c in TABLE_COLUMNS)
            lines.append(f"| {b} | {m} | {s['queries']} | {s['seconds']} | {s['overhead']} | {cells} |")
    return lines


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("condition", choices=["own-fill", "grey"])
    print("\n".join(table(p.parse_args().condition)))


if __name__ == "__main__":
    main()
