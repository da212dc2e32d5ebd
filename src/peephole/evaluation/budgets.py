"""The budget table (``peephole benchmark --card --budgets 25,50,100,500``): one report card per query budget, every
method at that many model queries per map (:func:`~peephole.evaluation.card.budget_options`), its queries timed again
as bare forward passes for the overhead ratio, and one table over the budgets: per budget and method, queries and
seconds per map, the overhead and the held-out-fill insertion, deletion and µFidelity with the paired Δ against the
reference at the same budget."""

from __future__ import annotations

import csv
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from peephole.errors import InputError
from peephole.evaluation.card import STATS, cell_text, make_card

#: The card columns the table keeps (held-out fill: not self-graded).
TABLE_COLUMNS = ("insertion", "deletion", "µFidelity")


def parse_budgets(text: str) -> list[int]:
    """``'25,50,100,500'`` -> ``[25, 50, 100, 500]`` (``--budgets``); one :class:`InputError` for anything else."""
    try:
        return [int(b) for b in text.split(",") if b.strip()]
    except ValueError:
        raise InputError(f"--budgets takes whole numbers of queries, e.g. 25,50,100,500; got {text!r}") from None


def budget_table(methods: Sequence[str], budgets: Sequence[int], out: str | Path, **card: Any) -> list[dict[str, Any]]:
    """Cards of ``methods`` at each of ``budgets`` queries per map in ``out/budget-<B>`` (each a resumable run store;
    ``card``: the other arguments of :func:`make_card`), then ``out/budgets.csv`` and ``out/budgets.md``; returns the
    table's rows (``budget``, ``method``, ``column``, the card row's figures and the method's :data:`STATS`)."""
    if not budgets or len(set(budgets)) != len(budgets):
        raise InputError(f"--budgets must name distinct query budgets, got {', '.join(map(str, budgets)) or 'none'}")
    out = Path(out)
    rows = []
    for b in budgets:
        made = make_card(methods, out / f"budget-{b}", budget=b, overhead=True, **card)
        rows += [{"budget": b, **r} for r in made if r["column"] in TABLE_COLUMNS]
    out.mkdir(parents=True, exist_ok=True)
    with (out / "budgets.csv").open("w", newline="") as f:
        w = csv.DictWriter(
            f, fieldnames=["budget", "column", "method", "mean", "n", "delta", "se", "lead", "self_graded", *STATS]
        )
        w.writeheader()
        w.writerows(rows)
    cell = {(r["budget"], r["method"], r["column"]): r for r in rows}
    columns = [c for c in TABLE_COLUMNS if any(r["column"] == c for r in rows)]
    md = [
        "# Budget table",
        "",
        "| budget | method | queries/img | s/img | overhead | " + " | ".join(columns) + " |",
        "|" + "---|" * (5 + len(columns)),
    ]
    for b in budgets:
        for m in methods:
            first = next((r for r in rows if r["budget"] == b and r["method"] == m), None)
            if first is None:
                continue
            stats = f"{first['queries']:.0f} | {first['seconds']:.2f} | {first['overhead']:.2f}"
            md.append(f"| {b} | {m} | {stats} | " + " | ".join(cell_text(cell.get((b, m, c))) for c in columns) + " |")
    reference = card.get("reference") or methods[0]
    md += [
        "",
        f"Each cell: the mean, the paired Δ with {reference} at the same budget ± paired s.e.; ★ leads its column at that "
        "budget (tied-first within one paired s.e.). Held-out fill (blur <-> grey), as the report card's columns. "
        "overhead: wall time ÷ the same queries as bare forward passes. Each budget's card and notes: budget-<B>/card.md.",
    ]
    others = sorted(int(p.parent.name[7:]) for p in out.glob("budget-*/card.md") if p.parent.name[7:].isdigit())
    others = [b for b in others if b not in budgets]
    if others:  # cards an earlier call made here: kept, not in this table (their methods and reference may differ)
        md.append(
            f"Earlier calls left the cards of budgets {', '.join(map(str, others))} in this folder (budget-<B>/card.md), "
            "not in this table: give every budget in one call (a resumed card reads its items back) for one table."
        )
    (out / "budgets.md").write_text("\n".join(md) + "\n")
    return rows
