"""docs/results.md's budget table reproduces from the per-photo rows kept in experiments/budget_table/: the stores'
exports made before 2026-12-06 (their ``pami-path`` rows are the SLIC-50 path, the default then) and those of the
current default's run, merged by ``experiments/budget_table/table.py``."""

from __future__ import annotations

import csv
import json
import re
from pathlib import Path

import pytest
from experiment_scripts import load_script
from results_tables import section, tables

ROOT = Path(__file__).resolve().parents[2]
DATA = ROOT / "experiments" / "budget_table"
SECTION = "## The budget table on the test split"
table = load_script(DATA / "table.py", "budget_table")


def _section() -> str:
    return section(SECTION)


def _published() -> list[list[str]]:
    """The section's two tables (own fill, then one condition): their rows, as printed."""
    return tables(SECTION)


@pytest.mark.parametrize("condition, index", [("own-fill", 0), ("grey", 1)])
def test_the_published_budget_table_reproduces_from_the_kept_rows(condition, index):
    published = _published()
    assert len(published) == 2
    assert published[index] == table.table(condition)
    assert len(published[index]) == sum(len(table.methods(b)) for b in table.BUDGETS)


def _metrics(path: Path, method: str) -> dict[str, dict]:
    return {
        r["id"].rsplit("/", 1)[0]: json.loads(r["metrics"]) for r in csv.DictReader(path.open()) if r["id"].endswith(f"/{method}")
    }


@pytest.mark.parametrize("condition, card", [("own-fill", "blur"), ("grey", "grey")])
def test_the_defaults_500_query_maps_are_the_one_condition_cards_seg2_maps(condition, card):
    """At 500 queries the budget table's default (run 2026-12-06) and the one-condition card's `pami-path-seg2` row
    (explicit SLIC-40 + SLIC-60) are the same maps scored the same way: every photo's scores agree."""
    ours = _metrics(DATA / condition / "default-budget-500.csv", "pami-path")
    cards = _metrics(ROOT / "experiments" / "report_card" / f"{card}.csv", "pami-path-seg2")
    assert len(ours) == 104 and set(ours) == set(cards)
    for photo, m in ours.items():
        assert all(m[c] == pytest.approx(cards[photo][c], abs=1e-6) for c in ("insertion", "deletion", "µFidelity"))


def test_the_section_states_the_kept_rows_photo_count():
    """The section's "N of the 125 test-split photos" is the number of photos in every kept table."""
    stated = int(re.search(r"\*\*(\d+) of the 125 test-split photos\*\*", _section())[1])
    for path in sorted(DATA.glob("*/*budget-*.csv")):
        photos = {r["id"].rsplit("/", 1)[0] for r in csv.DictReader(path.open())}
        assert len(photos) == stated, path


@pytest.mark.parametrize("condition", ["own-fill", "grey"])
@pytest.mark.parametrize("budget", [25, 50])
def test_the_current_default_at_small_budgets_gives_the_kept_slic50_maps(condition, budget):
    """At max_queries <= 50 the default walks one SLIC-50 segmentation, so the table's default rows there are the SLIC-50
    path's rows made before 2026-12-06. The current default, run on the first 6 photos (``check-default-B.csv``),
    gives their maps: µFidelity to float noise, the curves within 0.005 (near-tied parts can swap places when the
    model's outputs move in the last digits between machines)."""
    kept = _metrics(DATA / condition / f"budget-{budget}.csv", "pami-path")
    now = _metrics(DATA / condition / f"check-default-{budget}.csv", "pami-path")
    assert len(now) == 6 and set(now) <= set(kept)
    assert table.default_rows(budget) == "pami-path-slic50"
    for photo, m in now.items():
        assert m["µFidelity"] == pytest.approx(kept[photo]["µFidelity"], abs=1e-5)
        assert all(m[c] == pytest.approx(kept[photo][c], abs=5e-3) for c in ("insertion", "deletion"))


@pytest.mark.parametrize("budget", table.BUDGETS)
def test_centred_rise_rows_are_one_run_with_rises_queries(budget):
    """RISE with centred outputs (2026-12-07): one file per budget serves both conditions (it searches with grey in
    both, like RISE), with RISE's query count on every photo (the same masks; only Eq. 6's weights differ)."""
    path = DATA / "rise-centred" / f"budget-{budget}.csv"
    centred = {r["id"].rsplit("/", 1)[0]: r for r in csv.DictReader(path.open())}
    rise = {
        r["id"].rsplit("/", 1)[0]: r
        for r in csv.DictReader((DATA / "grey" / f"budget-{budget}.csv").open())
        if r["id"].endswith("/rise")
    }
    assert len(centred) == 104 and set(centred) == set(rise)
    assert all(int(centred[p]["n_queries"]) == int(rise[p]["n_queries"]) == budget + 1 for p in centred)
    for condition in ("own-fill", "grey"):
        assert table.scores(condition, budget)["rise-centred"]["µFidelity"] == [
            json.loads(centred[p]["metrics"])["µFidelity"] for p in sorted(centred, key=lambda p: int(centred[p]["seq"]))
        ]


def test_centred_rises_seed_rho_run_repeats_the_tables_items():
    """docs/results.md's seed ρ of centred RISE at 500 masks: a separate run on the first 10 photos whose other scores
    are the budget-500 items' (centred RISE's exactly; RISE's made in another session within 1e-4), ρ 0.715 / 0.338."""
    checks = {"rise-centred": ("rise-centred", 0, 0.715), "rise": ("grey", 1e-4, 0.338)}  # kept file, tolerance, ρ
    for method, (folder, tolerance, published) in checks.items():
        run = _metrics(DATA / "rise-centred" / "seed-rho-500.csv", method)
        kept = _metrics(DATA / folder / "budget-500.csv", method)
        assert len(run) == 10 and set(run) <= set(kept)
        for photo, m in run.items():
            assert all(m[c] == pytest.approx(kept[photo][c], abs=tolerance) for c in ("insertion", "deletion", "µFidelity"))
        assert round(sum(m["seed ρ"] for m in run.values()) / 10, 3) == published
