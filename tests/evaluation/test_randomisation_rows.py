"""docs/results.md's randomisation checks reproduce from the rows kept in experiments/randomisation_rows
(``experiments/randomisation.py`` output), and the rows hold what the check guarantees for a model-blind map."""

from __future__ import annotations

import json
from pathlib import Path

from experiment_scripts import load_script
from results_tables import tables

ROOT = Path(__file__).resolve().parents[2]
ROWS = sorted((ROOT / "experiments" / "randomisation_rows").glob("*.jsonl"))
SECTION = "## Randomisation checks on the test split"
randomisation = load_script(ROOT / "experiments" / "randomisation.py", "randomisation")


def _published() -> list[str]:
    (rows,) = tables(SECTION, header="| method | photos |", row=r"\| [a-z-]+ \| \d+ \|")
    return rows


def test_the_published_table_reproduces_from_the_kept_rows():
    assert ROWS and _published() == randomisation.summary(ROWS)


def test_the_model_blind_control_fails_and_every_photo_has_every_method():
    """The centred Gaussian ignores the model: ρ 1 at every depth and for the other class (the check can fail)."""
    rows = [json.loads(line) for p in ROWS for line in p.read_text().splitlines()]
    photos = {r["photo"] for r in rows}
    assert {(r["photo"], r["method"]) for r in rows} == {(p, m) for p in photos for m in randomisation.METHODS}
    for r in rows:
        assert set(r["mprt"]) == set(randomisation.LAYERS)
        if r["method"] == "centre":
            assert r["random_logit"] == 1.0 and set(r["mprt"].values()) == {1.0}
