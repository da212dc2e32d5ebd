"""docs/results.md's report card on the synthetic ground-truth set reproduces from the per-item rows kept in
experiments/synthetic_card (``table.py``), and those rows hold what the set's construction guarantees."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from experiment_scripts import load_script
from results_tables import tables

ROOT = Path(__file__).resolve().parents[2]
DATA = ROOT / "experiments" / "synthetic_card"
SECTION = "## The report card on the synthetic ground-truth set"
table = load_script(DATA / "table.py", "synthetic_card")


def _published() -> list[list[str]]:
    return tables(SECTION)


@pytest.mark.parametrize("condition, index", [("own-fill", 0), ("grey", 1)])
def test_the_published_synthetic_card_reproduces_from_the_kept_rows(condition, index):
    published = _published()
    assert len(published) == 2 and published[index] == table.table(condition)


@pytest.mark.parametrize("condition", ["own-fill", "grey"])
def test_the_kept_rows_hold_what_the_set_guarantees(condition):
    """200 images per budget; the seed-free default has seed ρ 1 on the images that have one; the random map's mask
    AUC is near chance and the default's relevance mass far above the pattern's share of the pixels."""
    for budget in table.budgets(condition):
        values, _ = table.scores(condition, budget)
        path, rand = values["pami-path"], values["random"]
        assert len(path["insertion"]) == 200 and np.isfinite(path["insertion"]).all()
        rho = np.asarray(path["seed ρ"])
        assert np.isfinite(rho).sum() == 10 and np.allclose(rho[np.isfinite(rho)], 1.0)
        assert abs(np.mean(rand["mask AUC"]) - 0.5) < 0.05 and np.mean(path["relevance mass"]) > 0.5
    rows = table.rows(condition)
    assert all(json.loads(r["metrics"]) for r in rows)


@pytest.mark.parametrize("condition, index", [("rule-own-fill", 0), ("rule-grey", 1)])
def test_the_budget_rules_synthetic_check_reproduces_from_the_kept_rows(condition, index):
    """PAMI path's small-budget rule checked on the synthetic set (docs/results.md, "PAMI path's number of
    segmentations at small budgets"): the default at 25 and 50 queries is one SLIC-50 path, paired with two."""
    published = tables("## PAMI path's number of segmentations at small budgets")
    assert len(published) == 2 and published[index] == table.table(condition)
    values, _ = table.scores(condition, 25)
    assert np.mean(values["pami-path"]["relevance mass"]) > np.mean(values["pami-path-seg2"]["relevance mass"])


def test_centred_rises_synthetic_check_reproduces_from_the_kept_rows():
    """RISE and RISE with centred outputs on the synthetic set (docs/results.md, "RISE with centred outputs"): the
    table from the kept rows; the same masks, so the same queries; centring moves the map towards the pattern."""
    (published,) = tables("## RISE with centred outputs", header="| budget | method |")
    assert published == table.table("rise-centred-own-fill", reference="rise")
    for budget in table.budgets("rise-centred-own-fill"):
        values, queries = table.scores("rise-centred-own-fill", budget)
        assert queries["rise"] == queries["rise-centred"] == budget + 1
        assert np.mean(values["rise-centred"]["mask AUC"]) > np.mean(values["rise"]["mask AUC"])


@pytest.mark.parametrize("condition, card, index", [("occlusion-own-fill", "own-fill", 0), ("occlusion-grey", "grey", 1)])
def test_occlusions_synthetic_rows_reproduce_and_sit_beside_the_cards_default(condition, card, index):
    """Occlusion on the synthetic set (docs/results.md, "Occlusion on the synthetic ground-truth set"), run beside the
    default after image windows began to scale with the image: the table from the kept rows, and the default's rows of
    that run are the card's to the last digit (the same trained network and maps)."""
    published = tables("## Occlusion on the synthetic ground-truth set", header="| budget | method |")
    assert len(published) == 2 and published[index] == table.table(condition)
    for budget in table.budgets(condition):
        now, queries = table.scores(condition, budget)
        before, _ = table.scores(card, budget)
        for c in ("insertion", "deletion", "µFidelity", "relevance mass", "mask AUC"):
            assert now["pami-path"][c] == before["pami-path"][c]
        assert queries["occlusion"] <= budget and np.isfinite(now["occlusion"]["mask AUC"]).all()
