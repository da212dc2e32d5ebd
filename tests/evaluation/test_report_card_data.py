"""docs/results.md's report card on the test split reproduces from the per-item rows kept in experiments/report_card/."""

from __future__ import annotations

import csv
import json
import re
from pathlib import Path

import numpy as np

from peephole.evaluation.card import cell_text, paired_card

ROOT = Path(__file__).resolve().parents[2]
ROWS = ROOT / "experiments" / "report_card" / "own-fill.csv"
SECTION = "## The report card on the test split"
HEADER = "| method | queries/img | s/img | insertion | deletion | µFidelity | seed ρ |"


def _published() -> tuple[int, list[str], dict[str, list[str]]]:
    """The section's stated photo count, its table's score columns and method -> their cells."""
    text = (ROOT / "docs" / "results.md").read_text()
    section = text[text.index(SECTION) :]
    section = section[: section.index("\n## ", 1)]
    n = int(re.search(r"\*\*(\d+) of the 125 test-split photos\*\*", section)[1])
    lines = section[section.index(HEADER) :].splitlines()
    columns = [c.strip() for c in lines[0].strip("|").split("|")][3:]
    rows = {}
    for line in lines[2:]:
        if not line.startswith("| ") or line.startswith("| leads"):
            break
        cells = [c.strip() for c in line.strip("|").split("|")]
        rows[cells[0]] = cells[3:]
    return n, columns, rows


def test_the_published_card_reproduces_from_the_kept_rows():
    n, columns, published = _published()
    items = list(csv.DictReader(ROWS.open()))
    methods = {r["id"].rsplit("/", 1)[1] for r in items}
    by_photo: dict[str, dict[str, dict]] = {}
    for r in items:
        photo, method = r["id"].rsplit("/", 1)
        by_photo.setdefault(photo, {})[method] = r
    complete = sorted((p for p, m in by_photo.items() if len(m) == len(methods)), key=lambda p: int(by_photo[p]["random"]["seq"]))
    assert len(complete) == n and len(methods) == len(published) == 8  # the stated count: every photo with all 8 maps
    scores = {m: {c: [json.loads(by_photo[p][m]["metrics"]).get(c, np.nan) for p in complete] for c in columns} for m in methods}
    card = {(r["method"], r["column"]): r for r in paired_card(scores, reference="pami-path")}
    for m in methods:
        assert published[m] == [cell_text(card.get((m, c))) for c in columns], m
