"""docs/results.md's budget table reproduces from the per-photo rows kept in experiments/budget_table/."""

from __future__ import annotations

import csv
import json
import re
from pathlib import Path

import pytest

from peephole.evaluation.budgets import TABLE_COLUMNS
from peephole.evaluation.card import cell_text, paired_card

ROOT = Path(__file__).resolve().parents[2]
DATA = ROOT / "experiments" / "budget_table"
SECTION = "## The budget table on the test split"


def _published() -> list[dict[tuple[str, str], list[str]]]:
    """The section's two tables (own fill, then one condition): (budget, method) -> the three metric cells."""
    text = (ROOT / "docs" / "results.md").read_text()
    section = text[text.index(SECTION) :]
    section = section[: section.index("\n## ", 1)]
    tables, rows = [], None
    for line in section.splitlines():
        if line.startswith("| budget | method |"):
            rows = {}
            tables.append(rows)
        elif rows is not None and re.match(r"\| \d+ \|", line):
            cells = [c.strip() for c in line.strip("|").split("|")]
            rows[(cells[0], cells[1])] = cells[5:]
    return tables


def _card(path: Path) -> list[dict]:
    scores: dict[str, dict[str, list[float]]] = {}
    rows = sorted(csv.DictReader(path.open()), key=lambda r: (int(r["seq"]), r["id"]))
    for r in rows:
        method = r["id"].rsplit("/", 1)[1]
        metrics = json.loads(r["metrics"])
        for c in TABLE_COLUMNS:
            scores.setdefault(method, {}).setdefault(c, []).append(float(metrics[c]))
    return paired_card(scores, reference="pami-path")


@pytest.mark.parametrize("condition, table", [("own-fill", 0), ("grey", 1)])
@pytest.mark.parametrize("budget", ["25", "50", "100", "500"])
def test_the_published_budget_table_reproduces_from_the_kept_rows(condition, table, budget):
    published = _published()
    assert len(published) == 2
    card = {(r["method"], r["column"]): r for r in _card(DATA / condition / f"budget-{budget}.csv")}
    methods = {m for m, _ in card}
    assert len(methods) == 8 and len({r["n"] for r in card.values()}) == 1  # every method on the same photos
    for m in methods:
        assert published[table][(budget, m)] == [cell_text(card[(m, c)]) for c in TABLE_COLUMNS]


def test_the_section_states_the_kept_rows_photo_count():
    """The section's "N of the 125 test-split photos" is the number of photos in every kept table."""
    text = (ROOT / "docs" / "results.md").read_text()
    stated = int(re.search(r"\*\*(\d+) of the 125 test-split photos\*\*", text[text.index(SECTION) :])[1])
    for path in sorted(DATA.glob("*/budget-*.csv")):
        photos = {r["id"].rsplit("/", 1)[0] for r in csv.DictReader(path.open())}
        assert len(photos) == stated, path
