"""docs/results.md's "ROAD-filled curves of the one-condition cards": both tables reproduce from the per-item rows kept in
experiments/report_card/road-blur.jsonl and road-grey.jsonl (``experiments/report_card/road.py`` output), with the
card's own paired differences and leaders (``paired_card``), over the photos of the card they score."""

from __future__ import annotations

import csv
import json
import re
from pathlib import Path

import pytest

from peephole.evaluation.card import cell_text, paired_card

ROOT = Path(__file__).resolve().parents[2]
HEADING = "## ROAD-filled curves of the one-condition cards"
COLUMNS = ("insertion (ROAD)", "deletion (ROAD)")


def _published(card: str) -> dict[str, list[str]]:
    """method -> its two cells, from the section's table whose header names ``card`` (blur or grey)."""
    text = (ROOT / "docs" / "results.md").read_text()
    section = text[text.index(HEADING) :]
    section = section[: section.index("\n## ", 1)]
    lines = section[section.index(f"| maps made with {card} | insertion (ROAD) |") :].splitlines()
    rows = {}
    for line in lines[2:]:
        if not line.startswith("| ") or line.startswith("| leads"):
            break
        cells = [c.strip() for c in line.strip("|").split("|")]
        rows[cells[0]] = cells[1:]
    return rows


@pytest.mark.parametrize("card", ["blur", "grey"])
def test_the_road_table_reproduces_from_the_kept_rows(card: str):
    kept = ROOT / "experiments" / "report_card"
    lines = [json.loads(line) for line in (kept / f"road-{card}.jsonl").read_text().splitlines()]
    by = {tuple(r["id"].rsplit("/", 1)): r for r in lines}
    photos = {r["id"].rsplit("/", 1)[0] for r in csv.DictReader((kept / f"{card}.csv").open())}
    methods = sorted({m for _, m in by})
    assert len(photos) == 104 and {p for p, _ in by} == photos and len(by) == len(photos) * len(methods) == 832
    order = sorted(photos)
    scores = {m: {c: [by[p, m][c] for p in order] for c in COLUMNS} for m in methods}
    cells = {(r["method"], r["column"]): r for r in paired_card(scores, reference="pami-path")}
    published = _published(card)
    assert sorted(published) == methods
    for m in methods:
        assert published[m] == [cell_text(cells.get((m, c))) for c in COLUMNS], m
    assert re.search(r"\*\*104 photos\*\*", (ROOT / "docs" / "results.md").read_text().split(HEADING)[1])
