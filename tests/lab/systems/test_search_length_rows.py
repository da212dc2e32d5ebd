"""docs/systems.md's "A longer search" diagnostic: its figures reproduce from the rows kept in
experiments/search_length (``experiments/search_length.py`` output), and each row's default-search masks are those of
the blind zoo's kept scan."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from peephole_lab.systems.backdoor_eval import ModelResult, auc
from peephole_lab.systems.tabor import GAP_THRESHOLD, gap_anomaly

EXP = Path(__file__).resolve().parents[3] / "experiments"
SCANS = {"zoo2": "blind_zoo2/rerun", "zoo3": "blind_zoo3", "zoo4": "blind_zoo4", "zoo5": "blind_zoo5"}


def _rows(name: str) -> list[dict]:
    return [json.loads(line) for line in (EXP / "search_length" / name).read_text().splitlines()]


def _results(rows: list[dict], search: str) -> list[ModelResult]:
    out = []
    for r in rows:
        a = gap_anomaly(r[search], 784).tolist()
        out.append(ModelResult(r["name"], r["trojan"], r["target"], {}, a, [True] * len(a), list(range(len(a))), 0.0))
    return out


@pytest.mark.parametrize("file", ["rows.jsonl", "failures.jsonl"])
def test_default_search_masks_are_the_kept_scans(file: str) -> None:
    for r in _rows(file):
        zoo, stem = r["name"].split("/")
        kept = json.loads((EXP / SCANS[zoo] / "scans" / "tabor" / f"{stem}.json").read_text())
        assert kept["trojan"] == r["trojan"] and kept["target"] == r["target"]
        np.testing.assert_allclose(r["base"], kept["measures"]["mask_l1"], rtol=1e-9)


# search -> (AUC, backdoored models whose target mask is the smallest, detected, false alarms at GAP_THRESHOLD)
PUBLISHED = {"base": (0.968, 17, 15, 2), "longer": (0.939, 16, 16, 2)}


@pytest.mark.parametrize("search", sorted(PUBLISHED))
def test_published_figures(search: str) -> None:
    rows = _rows("rows.jsonl")
    assert len(rows) == 39 and sum(r["trojan"] for r in rows) == 18
    res = _results(rows, search)
    smallest = sum(int(np.argmin(r[search]) == r["target"]) for r in rows if r["trojan"])
    detected = sum(m.trojan and m.target in m.flagged_at(GAP_THRESHOLD) for m in res)
    alarms = sum(not m.trojan and bool(m.flagged_at(GAP_THRESHOLD)) for m in res)
    got = (round(auc(res), 3), smallest, detected, alarms)
    assert got == PUBLISHED[search]


def test_longer_search_shrinks_clean_and_backdoored_masks() -> None:
    """The diagnostic's reading: the longer search shrinks the clean models' smallest mask too, not only the targets'."""
    rows = _rows("rows.jsonl")
    clean = [min(r["longer"]) / min(r["base"]) for r in rows if not r["trojan"]]
    troj = [r["longer"][r["target"]] / r["base"][r["target"]] for r in rows if r["trojan"]]
    assert np.median(clean) < 0.95 and np.median(troj) < 0.95
