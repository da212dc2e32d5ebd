"""docs/systems.md's Explainer figures on the 48×48 ten-digit task reproduce from the runs' JSON lines kept in
experiments/explainer_digits48/rows/, and the setting it reports is the one its plan's rule picks."""

from __future__ import annotations

import json
import re
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[4]
ROWS = ROOT / "experiments" / "explainer_digits48" / "rows"
HEADING = "#### The ten-digit task at 48×48"
#: the plan's candidates (experiments/explainer_digits48/PLAN.md): file stem -> the docs' row label
SETTINGS = {"default": "the default", "epochs30": "(a) 30 epochs", "lambda-n-150": "(e) λ_n 50 → 150"}


def _runs(stem: str) -> list[dict]:
    return [json.loads(line) for line in (ROWS / f"{stem}.jsonl").read_text().splitlines()]


def _section() -> str:
    text = (ROOT / "docs" / "systems.md").read_text()
    section = text[text.index(HEADING) :]
    return section[: section.index("\n### ", 1)]


def _cells(label: str) -> list[str]:
    line = next(ln for ln in _section().splitlines() if ln.startswith(f"| {label}"))
    return [c.strip() for c in line.strip("|").split("|")][1:]


def _kept(run: dict) -> bool:
    """The plan's rule (amended before the tuning runs): both goals on validation, no dead channel."""
    return run["val_soft_iou"] >= 0.5 and run["val_absent"] <= 0.05 and min(run["val_soft_iou_per_class"]) >= 0.3


def test_the_plan_rule_picks_the_reported_setting_on_seed_0_validation():
    seed0 = {stem: next(r for r in _runs(stem) if r["seed"] == 0) for stem in SETTINGS}
    kept = [stem for stem, r in seed0.items() if _kept(r)]
    assert kept == ["lambda-n-150"]  # the default and 30 epochs miss the absent goal on validation
    for stem, r in seed0.items():  # the decision table: one row per setting, seed 0, validation canvases
        expected = [
            f"{r['epochs_run']} ({r['best_epoch']})",
            *(f"{r[f'val_{k}']:.3f}" for k in ("soft_iou", "hard_iou", "own", "absent")),
            f"{min(r['val_soft_iou_per_class']):.3f}",
        ]
        assert _cells(SETTINGS[stem])[: len(expected)] == expected, stem


def test_the_three_seed_table_reproduces_from_the_rows():
    runs = _runs("lambda-n-150")
    assert sorted(r["seed"] for r in runs) == [0, 1, 2]
    for split, label in (("val", "validation"), ("test", "test"), ("heldout", "**held-out")):
        cells = _cells(label)
        values = {k: np.array([r[f"{split}_{k}"] for r in runs]) for k in ("soft_iou", "hard_iou", "own", "absent")}
        spread = {k: f"{v.mean():.3f} ± {v.std(ddof=1):.3f}" for k, v in values.items()}
        assert cells[0].strip("*").startswith(spread["soft_iou"]) and f"(min {values['soft_iou'].min():.3f})" in cells[0]
        assert cells[1] == spread["hard_iou"] and cells[2] == spread["own"]
        assert cells[3].strip("*").startswith(spread["absent"]) and f"(max {values['absent'].max():.3f})" in cells[3]
    summary = re.search(r"held-out soft IoU \*\*(\d\.\d{3})\*\*.*?absent \*\*(\d\.\d{3})\*\*", _section(), re.S)
    assert [summary[1], summary[2]] == [f"{np.mean([r[f'heldout_{k}'] for r in runs]):.3f}" for k in ("soft_iou", "absent")]


def test_the_torchscript_run_is_the_eager_run():
    """docs: "every figure the eager run's to the last digit" (seed 0 of the kept setting, classifier as TorchScript)."""
    (scripted,) = _runs("lambda-n-150-torchscript")
    eager = next(r for r in _runs("lambda-n-150") if r["seed"] == 0)
    assert scripted["torchscript"] and not eager["torchscript"]
    figures = [k for k, v in eager.items() if isinstance(v, (float, list)) and k != "val_loss"]
    assert len(figures) == 15 and all(scripted[k] == eager[k] for k in figures)
    assert "largest difference over all its figures: 0.0" in _section()
