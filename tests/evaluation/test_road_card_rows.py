"""docs/results.md's "ROAD-filled curves of the one-condition cards": the tables reproduce from the per-item rows kept in
experiments/report_card/road-blur.jsonl, road-grey.jsonl and road-own-fill.jsonl (``experiments/report_card/road.py``
output), with the card's own paired differences and leaders (``paired_card``), over the photos of the card they score."""

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


def test_the_own_fill_road_table_reproduces_from_its_sources(monkeypatch):
    """The own-fill table takes each method's maps from the card of its own fill (PAMI path: blur; LIME, KernelSHAP,
    RISE, random: grey) and HSIC's and Sobol's black maps from road-own-fill.jsonl; a direct run over the own-fill
    store (road-own-check.jsonl, 43 photos) gave exactly those rows."""
    kept = ROOT / "experiments" / "report_card"
    monkeypatch.syspath_prepend(str(kept))
    from road import rows_of, table

    sources = [f"{kept}/road-blur.jsonl:pami-path,pami-path-seg2", f"{kept}/road-grey.jsonl:lime,kernel-shap,rise,random"]
    sources.append(f"{kept}/road-own-fill.jsonl")
    assembled = {r["id"]: r for spec in sources for r in rows_of(spec)}
    check = [json.loads(line) for line in (kept / "road-own-check.jsonl").read_text().splitlines()]
    assert len(check) == 298 and all(all(r[c] == assembled[r["id"]][c] for c in COLUMNS) for r in check)
    order = ["pami-path-seg2", "lime", "kernel-shap", "rise", "hsic", "sobol", "random", "pami-path"]
    n, text = table(sources, "pami-path-seg2", order)
    section = (ROOT / "docs" / "results.md").read_text().split(HEADING)[1].split("\n## ")[0]
    published = section[section.index("| maps made at each method's own fill |") :].split("\n\n")[0]
    assert n == 104 and published.splitlines()[2:] == text.splitlines()[2:]
