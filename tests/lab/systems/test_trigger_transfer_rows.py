"""docs/systems.md's "Does the restored trigger transfer?" figures reproduce from the rows kept in
experiments/trigger_transfer (``experiments/trigger_transfer.py`` output) and the zoos' kept TABOR scans; each row's
re-searched masks are the kept scan's; the rules re-score a scan as their plans say."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from experiment_scripts import load_script

from peephole_lab.systems.backdoor_eval import ModelResult
from peephole_lab.systems.tabor import GAP_THRESHOLD, gap_anomaly
from peephole_lab.systems.trigger_transfer import GATE, REFERENCES

EXP = Path(__file__).resolve().parents[3] / "experiments"
ZOOS = [("2", "blind_zoo2/rerun"), ("3", "blind_zoo3"), ("4", "blind_zoo4"), ("5", "blind_zoo5"), ("6", "blind_zoo6")]
EIGHTH = ("7", "blind_zoo7")  # experiments/blind_zoo7/PLAN.md
NINTH = ("8", "blind_zoo8")  # experiments/blind_zoo8/PLAN.md
TENTH = ("9", "blind_zoo9")  # experiments/blind_zoo9/PLAN.md
ELEVENTH = ("10", "blind_zoo10")  # experiments/blind_zoo10/PLAN.md
TWELFTH = ("11", "blind_zoo11")  # experiments/blind_zoo11/PLAN.md
FIRST_TWO = [("0", "wide_zoo"), ("1", "fresh_zoo")]  # the wide and fresh zoos (rows-zoos01*.jsonl)
# the plans' references; the first release's three (reference_models, seeds 9001-9003); the shipped nine (zoos 2-9)
FILES = {"rows-pilot.jsonl": 3, "rows.jsonl": 3, "rows-nine.jsonl": len(REFERENCES)}
tt = load_script(EXP / "trigger_transfer.py", "trigger_transfer")


def _at(*zoos: tuple[str, str]) -> list[tuple[str, str]]:
    """``(seed, folder under experiments/)`` pairs as :func:`trigger_transfer.evaluate` takes them."""
    return [(s, str(EXP / d)) for s, d in zoos]


def _rows(file: str = "rows-pilot.jsonl") -> list[dict]:
    return [json.loads(line) for line in (EXP / "trigger_transfer" / file).read_text().splitlines()]


@pytest.mark.parametrize("file", FILES)
def test_rows_re_search_the_kept_scans_three_smallest_masks(file: str) -> None:
    rows = _rows(file)
    n_refs = FILES[file]
    assert {r["name"].split("/")[0] for r in rows} >= {f"zoo{s}" for s, _ in ZOOS}
    for r in rows:
        zoo, stem = r["name"].split("/")
        scans = dict([*FIRST_TWO, *ZOOS, EIGHTH, NINTH, TENTH, ELEVENTH, TWELFTH])[zoo.removeprefix("zoo")]
        kept = json.loads((EXP / scans / "scans" / "tabor" / f"{stem}.json").read_text())
        size = kept["measures"]["mask_l1"]
        assert r["classes"] == [int(c) for c in np.argsort(size)[:3]]
        np.testing.assert_allclose(r["rescanned"], [size[c] for c in r["classes"]], rtol=1e-6)
        assert all(len(t) == n_refs and all(0 <= v <= 1 for v in t) for t in r["transfer"])


def _scan(sizes: list[float]) -> ModelResult:
    n = len(sizes)
    return ModelResult("m", False, 0, {}, [0.0] * n, [True] * n, list(range(n)), 0.0, measures={"mask_l1": sizes})


def test_rules_rescore_as_planned() -> None:
    """Class 1 has the smallest mask but a natural (transferring) trigger; class 0 is next."""
    sizes = [20.0, 10.0, 60.0, 70.0, 80.0]
    row = {"classes": [1, 0, 2], "transfer": [[0.5, 0.3, 0.4], [0.0, 0.05, 0.01], [0.1, 0.1, 0.1]]}
    r = _scan(sizes)
    gap = tt.rescored(r, row, "gap")
    np.testing.assert_allclose(gap.anomaly, gap_anomaly(sizes, 784))
    assert gap.eligible == [True] * 5
    gate = tt.rescored(r, row, "gap-transfer")
    assert gate.anomaly == gap.anomaly and gate.eligible == [True, False, True, True, True]
    nat = tt.rescored(r, row, "gap-natural")
    assert nat.eligible == gate.eligible
    # class 0 is compared with class 2 (60 px), not with the natural class 1 (10 px)
    assert nat.anomaly[0] == pytest.approx(np.log(784 / 20) + np.log(60 / 20))
    assert nat.anomaly[0] > GAP_THRESHOLD > gap.anomaly[0]
    assert nat.flagged_at(GAP_THRESHOLD) == [0] and gate.flagged_at(GAP_THRESHOLD) == []


def _counts(p: dict) -> tuple:
    return p["detected"], p["n_trojan"], p["false_alarms"], p["n_clean"], round(p["auc"], 3)


# the plans' figures (rows-pilot.jsonl): rule -> (detected, backdoored, false alarms, clean, AUC)
CHECKING = {"gap": (26, 29, 1, 36, 0.977), "gap-transfer": (26, 29, 1, 36, 0.974)}  # zoos 2-4, plan 1's check
SEEN = {"gap": (33, 38, 3, 48, 0.956), "gap-transfer": (33, 38, 1, 48, 0.971), "gap-natural": (35, 38, 1, 48, 0.976)}
BLIND = {"gap": (7, 8, 2, 12, 0.948), "gap-transfer": (7, 8, 2, 12, 0.958), "gap-natural": (8, 8, 2, 12, 0.979)}
POOLED = {  # zoos 2-6, leave one family out: (rule, grouping) -> counts
    ("gap", "pattern"): (36, 46, 2, 60, 0.956),
    ("gap", "arch"): (38, 46, 3, 60, 0.956),
    ("gap-transfer", "pattern"): (36, 46, 2, 60, 0.970),
    ("gap-transfer", "arch"): (38, 46, 3, 60, 0.970),
    ("gap-natural", "pattern"): (38, 46, 2, 60, 0.975),
    ("gap-natural", "arch"): (40, 46, 3, 60, 0.975),
}


def test_plan_figures_from_the_pilot_rows() -> None:
    rows = _rows()
    zoos = [(s, str(EXP / d)) for s, d in ZOOS]
    out = tt.evaluate(zoos[:3], rows)
    assert {rule: _counts(out["zoos"][f"pooled {rule}"]) for rule in CHECKING} == CHECKING
    out = tt.evaluate(zoos[:4], rows)
    assert {rule: _counts(out["zoos"][f"pooled {rule}"]) for rule in SEEN} == SEEN
    out = tt.evaluate(zoos[4:], rows)
    assert {rule: _counts(out["zoos"][f"zoo6 {rule}"]) for rule in BLIND} == BLIND
    out = tt.evaluate(zoos, rows)
    assert {k: _counts(out["pooled"][f"{k[0]} by {k[1]}"]) for k in POOLED} == POOLED
    t = out["transfer"]
    assert max(t["targets (among the 3 smallest)"]) < GATE and np.median(t["clean models' smallest class"]) > 2 * GATE


# the first release's references (rows.jsonl): zoo 6 and zoos 2-6 pooled; all seven zoos with rows-zoos01.jsonl
SHIPPED_BLIND = {"gap": (7, 8, 2, 12, 0.948), "gap-transfer": (6, 8, 2, 12, 0.844), "gap-natural": (7, 8, 2, 12, 0.885)}
SHIPPED_POOLED = {
    ("gap-natural", "pattern"): (37, 46, 2, 60, 0.958),
    ("gap-natural", "arch"): (39, 46, 3, 60, 0.958),
    ("gap", "arch"): (38, 46, 3, 60, 0.956),
}
SEVEN = {
    ("gap-natural", "pattern"): (50, 65, 2, 83, 0.963),
    ("gap-natural", "arch"): (53, 65, 3, 83, 0.963),
    ("gap", "pattern"): (49, 65, 2, 83, 0.956),
    ("gap", "arch"): (52, 65, 3, 83, 0.956),
}


def test_figures_with_the_first_three_references() -> None:
    rows = _rows("rows.jsonl")
    zoos = [(s, str(EXP / d)) for s, d in ZOOS]
    out = tt.evaluate(zoos[4:], rows)
    assert {rule: _counts(out["zoos"][f"zoo6 {rule}"]) for rule in SHIPPED_BLIND} == SHIPPED_BLIND
    out = tt.evaluate(zoos, rows)
    assert {k: _counts(out["pooled"][f"{k[0]} by {k[1]}"]) for k in SHIPPED_POOLED} == SHIPPED_POOLED
    near = sorted(
        float(np.mean(r["transfer"][r["classes"].index(r["target"])]))
        for r in rows
        if r["trojan"] and r["target"] in r["classes"]
    )
    assert near[-1] >= GATE > near[-2]  # the deep-CNN solid patch, set aside: the docs' caveat
    seven = tt.evaluate([("0", str(EXP / "wide_zoo")), ("1", str(EXP / "fresh_zoo")), *zoos], rows + _rows("rows-zoos01.jsonl"))
    assert {k: _counts(seven["pooled"][f"{k[0]} by {k[1]}"]) for k in SEVEN} == SEVEN


def test_retrained_zoos_rows_are_close_to_the_kept_scans() -> None:
    """The wide and fresh zoos, retrained from their specs: 16 of 42 restore the kept masks, all within 31 %."""
    exact = 0
    for r in _rows("rows-zoos01.jsonl"):
        zoo, stem = r["name"].split("/")
        kept = json.loads((EXP / {"zoo0": "wide_zoo", "zoo1": "fresh_zoo"}[zoo] / "scans" / "tabor" / f"{stem}.json").read_text())
        size = np.array([kept["measures"]["mask_l1"][c] for c in r["classes"]])
        assert r["classes"] == [int(c) for c in np.argsort(kept["measures"]["mask_l1"])[:3]]
        gap = np.max(np.abs(np.array(r["rescanned"]) - size) / size)
        assert gap < 0.31
        exact += gap < 1e-4
    assert exact == 16


# PLAN-next.md's nine references (rows-nine.jsonl): its median candidate, and the mean seen after the fact
NINE = {
    ("gap-natural-median", "pattern"): (38, 46, 3, 60, 0.967),
    ("gap-natural-median", "arch"): (38, 46, 2, 60, 0.967),
    ("gap-natural-nine", "pattern"): (38, 46, 2, 60, 0.975),
    ("gap-natural-nine", "arch"): (40, 46, 3, 60, 0.975),
    ("gap-natural", "pattern"): (37, 46, 2, 60, 0.958),  # the first three references, the rows' first three columns
}


def _same_first_three(rows: list[dict], first: list[dict]) -> None:
    """Every row of ``first`` (three references) has its twin in ``rows`` (nine): the same re-searched triggers, and
    the first three references' columns."""
    nine = {r["name"]: r for r in rows}
    for r in first:
        twin = nine[r["name"]]
        assert twin["classes"] == r["classes"] and twin["rescanned"] == r["rescanned"]
        np.testing.assert_allclose(np.asarray(twin["transfer"])[:, :3], r["transfer"], atol=1e-12)


def test_nine_references_figures() -> None:
    rows = _rows("rows-nine.jsonl")
    assert all(len(t) == 9 for r in rows for t in r["transfer"])
    _same_first_three(rows, _rows("rows.jsonl"))
    out = tt.evaluate([(s, str(EXP / d)) for s, d in ZOOS], rows)
    assert {k: _counts(out["pooled"][f"{k[0]} by {k[1]}"]) for k in NINE} == NINE
    assert _counts(out["zoos"]["pooled gap-natural-median"]) == (42, 46, 6, 60, 0.967)
    assert _counts(out["zoos"]["zoo6 gap-natural-nine"]) == (8, 8, 2, 12, 0.979)
    assert _counts(out["zoos"]["zoo6 gap-natural"]) == (7, 8, 2, 12, 0.885)
    assert "pooled gap-natural-nine" not in tt.evaluate([(s, str(EXP / d)) for s, d in ZOOS], _rows("rows.jsonl"))["zoos"]


# experiments/blind_zoo7/PLAN.md's report: the eighth zoo at the shipped threshold, then zoos 2-7 pooled
EIGHTH_ZOO = {rule: (9, 10, 0, 12, 1.0) for rule in ("gap", "gap-natural", "gap-natural-nine")}
EIGHT = {
    ("gap-natural-nine", "pattern"): (44, 56, 2, 72, 0.978),
    ("gap-natural-nine", "arch"): (46, 56, 3, 72, 0.978),
    ("gap-natural", "pattern"): (43, 56, 2, 72, 0.965),
    ("gap-natural", "arch"): (45, 56, 3, 72, 0.965),
    ("gap", "pattern"): (42, 56, 2, 72, 0.962),
    ("gap", "arch"): (44, 56, 3, 72, 0.962),
}


def test_eighth_zoo_figures() -> None:
    rows = _rows("rows-nine.jsonl")
    assert sum(r["name"].startswith("zoo7/") for r in rows) == 22  # 12 pairs, two backdoors under the 90 % attack rule
    out = tt.evaluate([(EIGHTH[0], str(EXP / EIGHTH[1]))], rows)
    assert {rule: _counts(out["zoos"][f"zoo7 {rule}"]) for rule in EIGHTH_ZOO} == EIGHTH_ZOO
    out = tt.evaluate([(s, str(EXP / d)) for s, d in [*ZOOS, EIGHTH]], rows)
    assert {k: _counts(out["pooled"][f"{k[0]} by {k[1]}"]) for k in EIGHT} == EIGHT
    assert _counts(out["zoos"]["pooled gap-natural-nine"]) == (52, 56, 3, 72, 0.978)
    blind = tt.evaluate([(s, str(EXP / d)) for s, d in [ZOOS[-1], EIGHTH]], rows)["zoos"]  # built after the rule
    assert _counts(blind["pooled gap-natural-nine"]) == (17, 18, 2, 24, 0.984)
    assert _counts(blind["pooled gap-natural"])[:4] == _counts(blind["pooled gap"])[:4] == (16, 18, 2, 24)
    # the rows' nine columns are the library's references in order, the first three the first release's
    assert len(REFERENCES) == 9 and REFERENCES[: tt.FIRST] == (("cnn", 9001), ("mlp", 9002), ("lenet", 9003))


def test_all_eight_zoos_with_the_nine_references() -> None:
    rows, first = _rows("rows-nine.jsonl") + _rows("rows-zoos01-nine.jsonl"), _rows("rows-zoos01.jsonl")
    assert len(rows) == 106 + 22 + 23 + 23 + 22 + 21 + len(first)  # zoos 2-6, 7, 8, 9, 10, 11; and zoos 0-1
    _same_first_three(rows, first)  # the wide and fresh zoos retrained: the same masks and columns
    out = tt.evaluate(_at(*FIRST_TWO, *ZOOS, EIGHTH), rows)
    assert _counts(out["pooled"]["gap-natural-nine by pattern"]) == (57, 75, 2, 95, 0.978)
    assert _counts(out["pooled"]["gap-natural-nine by arch"]) == (60, 75, 3, 95, 0.978)
    assert _counts(out["pooled"]["gap by arch"]) == (58, 75, 3, 95, 0.96)
    assert _counts(out["zoos"]["pooled gap-natural-nine"])[:4] == (66, 75, 3, 95)


def test_class_scaling_divides_each_size_by_the_references_size_of_that_class() -> None:
    g = np.log(np.asarray(list(json.loads(tt.REFERENCE_SIZES.read_text()).values()))).mean(0)
    assert g.shape == (10,) and np.exp(g[1]) > 150 > 75 > np.exp(g[3])  # clean models restore a 1 large, a 3 small
    size = np.exp(g)  # a model restoring every class as the references do: all scaled to one size
    np.testing.assert_allclose(tt.class_scaled(size, list(range(10))), np.exp(g.mean()))
    np.testing.assert_allclose(tt.class_scaled(size[[3, 1]], [3, 1]), np.exp(g.mean()))  # follows the targets' order
    row = {"classes": [3, 1, 0], "transfer": [[0.0] * 9] * 3}
    r = _scan([30.0, 30.0, *np.exp(g[2:])])  # class 1 at 30 px is far below its references' size, class 3 not much
    scaled = tt.rescored(r, row, "gap-natural-class")
    assert np.argmax(scaled.anomaly) == 1 and np.argmax(tt.rescored(r, row, "gap-natural-nine").anomaly) in (0, 1)


# experiments/blind_zoo8/PLAN.md's report: the ninth zoo at the fixed thresholds, then all nine zoos pooled
NINE_ZOOS = {
    ("gap-natural-nine", "pattern"): (68, 86, 3, 107, 0.98),
    ("gap-natural-nine", "arch"): (68, 86, 3, 107, 0.98),
    ("gap-natural-class", "pattern"): (75, 86, 2, 107, 0.985),
    ("gap-natural-class", "arch"): (75, 86, 3, 107, 0.985),
}


def test_ninth_zoo_figures() -> None:
    rows = _rows("rows-nine.jsonl") + _rows("rows-zoos01-nine.jsonl")
    assert sum(r["name"].startswith("zoo8/") for r in rows) == 23  # 12 pairs, one backdoor under the attack rule
    ninth = tt.evaluate(_at(NINTH), rows)["zoos"]
    assert _counts(ninth["zoo8 gap-natural-nine"]) == (11, 11, 1, 12, 1.0)  # shipped, at 3.46
    assert _counts(ninth["zoo8 gap-natural-class"]) == (10, 11, 0, 12, 1.0)  # the candidate, at 3.622: not adopted
    eight = _at(*FIRST_TWO, *ZOOS, EIGHTH)
    out = tt.evaluate([*eight, *_at(NINTH)], rows)
    assert {k: _counts(out["pooled"][f"{k[0]} by {k[1]}"]) for k in NINE_ZOOS} == NINE_ZOOS
    # the candidate's threshold: the lowest with at most one false alarm among the eight zoos' clean models
    before = tt.evaluate(eight, rows)["zoos"]["pooled gap-natural-class"]
    assert _counts(before)[:4] == (65, 75, 1, 95)


# experiments/blind_zoo9/PLAN.md's report: the tenth zoo, the candidate's two blind zoos, all ten zoos pooled
TEN_ZOOS = {
    ("gap-natural-nine", "pattern"): (71, 97, 2, 119, 0.979),
    ("gap-natural-nine", "arch"): (72, 97, 4, 119, 0.979),
    ("gap-natural-class", "pattern"): (83, 97, 2, 119, 0.981),
    ("gap-natural-class", "arch"): (83, 97, 4, 119, 0.981),
}


def test_tenth_zoo_figures() -> None:
    rows = _rows("rows-nine.jsonl") + _rows("rows-zoos01-nine.jsonl")
    assert sum(r["name"].startswith("zoo9/") for r in rows) == 23
    blind = tt.evaluate(_at(NINTH, TENTH), rows)["zoos"]
    assert _counts(blind["zoo9 gap-natural-nine"]) == (10, 11, 1, 12, 0.97)
    assert _counts(blind["zoo9 gap-natural-class"]) == (9, 11, 2, 12, 0.97)  # the plan's (2) fails
    assert _counts(blind["pooled gap-natural-nine"])[:4] == (21, 22, 2, 24)
    assert _counts(blind["pooled gap-natural-class"])[:4] == (19, 22, 2, 24)  # (1) fails: the shipped rule stays
    out = tt.evaluate(_at(*FIRST_TWO, *ZOOS, EIGHTH, NINTH, TENTH), rows)
    assert {k: _counts(out["pooled"][f"{k[0]} by {k[1]}"]) for k in TEN_ZOOS} == TEN_ZOOS
    assert _counts(out["zoos"]["pooled gap-natural-nine"])[:4] == (87, 97, 5, 119)  # the shipped rule's fixed threshold


# experiments/blind_zoo10/PLAN.md, seen before it was written (so in-sample for T5): all ten zoos, T5 in each fold,
# and the fold thresholds it froze for the eleventh zoo
TEN_ZOOS_T5 = {"pattern": (87, 97, 6, 119, 0.979), "arch": (88, 97, 14, 119, 0.979)}
FROZEN = {
    "pattern": {"blend": 3.3911, "checker": 3.4181, "hollow": 3.4018, "line": 3.3911, "multi": 3.4018, "random": 3.4181},
    "arch": {"cnn": 3.4181, "cnn-bn-gap": 3.1347, "resnet": 3.2979, "strided-cnn": 3.4181, "mlp-gelu": 3.4181},
}


def test_t5_on_ten_zoos_and_the_thresholds_it_froze() -> None:
    rows = _rows("rows-nine.jsonl") + _rows("rows-zoos01-nine.jsonl")
    rows = [r for r in rows if r["name"].split("/")[0] not in ("zoo10", "zoo11")]
    out = tt.evaluate(_at(*FIRST_TWO, *ZOOS, EIGHTH, NINTH, TENTH), rows)
    assert {by: _counts(out["pooled"][f"gap-natural-nine T5 by {by}"]) for by in TEN_ZOOS_T5} == TEN_ZOOS_T5
    for by, want in FROZEN.items():
        got = tt.frozen_folds(out["results"]["gap-natural-nine"], "10", by)
        assert got["n_trojan"] == 0  # no eleventh-zoo row in this set: every fold threshold comes from zoos 0-9
        assert {f: round(got["thresholds"][f], 4) for f in want} == want


def _model(name: str, trojan: bool, family: str, score: float) -> ModelResult:
    return ModelResult(name, trojan, 0, {"pattern": family}, [score], [True], [0], 0.0)


def test_frozen_folds_leave_out_the_zoo_and_the_family() -> None:
    """Zoo 1's 'a' models are judged at a threshold set by zoo 0's 'b' models only (one false alarm allowed: 2.0);
    zoo 0's 'a' clean model (5.0) or zoo 1's own 'b' clean model (10.0), if seen, would move it to 3.0."""
    seen = [_model("zoo0/a-c", False, "a", 5.0)] + [_model(f"zoo0/b-c{i}", False, "b", v) for i, v in enumerate([1.0, 2.0, 3.0])]
    new = [_model("zoo1/a-t", True, "a", 2.5), _model("zoo1/a-c", False, "a", 4.5), _model("zoo1/b-c", False, "b", 10.0)]
    got = tt.frozen_folds(seen + new, "1", "pattern")
    assert got["thresholds"]["a"] == 2.0
    assert (got["detected"], got["n_trojan"], got["false_alarms"], got["n_clean"]) == (1, 1, 2, 2)


# each blind zoo read once by its plan (experiments/blind_zoo10/PLAN.md, blind_zoo11/PLAN.md): the zoo, the fold
# thresholds T5 froze on the zoos before it (a sample), its rows, (B) the shipped 3.46 on it, (A) its counts at the
# frozen thresholds by trigger / by architecture, (C) every zoo pooled, leave one family out, T5 and T1
BLIND_T5 = {
    "eleventh": (
        ELEVENTH,
        FROZEN,
        22,  # 12 pairs, two backdoors under the attack rule
        (10, 10, 2, 12, 0.992),
        {"pattern": (10, 10, 2, 12), "arch": (10, 10, 2, 12)},
        {
            "gap-natural-nine T5 by pattern": (94, 107, 8, 131, 0.979),
            "gap-natural-nine T5 by arch": (94, 107, 11, 131, 0.979),
            "gap-natural-nine by pattern": (80, 107, 2, 131, 0.979),
            "gap-natural-nine by arch": (81, 107, 5, 131, 0.979),
        },
    ),
    "twelfth": (
        TWELFTH,
        {
            "pattern": {"blend": 3.4018, "checker": 3.7121, "hollow": 3.4885, "multi": 3.4885, "rect": 3.7121},
            "arch": {"cnn": 3.7121, "cnn-bn-gap": 3.3874, "resnet": 3.3353, "mlp-gelu": 3.7121, "deep-cnn": 3.7121},
        },
        21,  # 12 pairs, three backdoors under the attack rule
        (8, 9, 1, 12, 0.981),
        {"pattern": (8, 9, 1, 12), "arch": (8, 9, 2, 12)},
        {
            "gap-natural-nine T5 by pattern": (101, 116, 9, 143, 0.98),
            "gap-natural-nine T5 by arch": (102, 116, 13, 143, 0.98),
            "gap-natural-nine by pattern": (88, 116, 2, 143, 0.98),
            "gap-natural-nine by arch": (88, 116, 3, 143, 0.98),
        },
    ),
}


@pytest.mark.parametrize("zoo", BLIND_T5)
def test_blind_zoo_read_by_its_t5_plan(zoo: str) -> None:
    new, frozen, n_rows, fixed, at_frozen, pooled = BLIND_T5[zoo]
    rows = _rows("rows-nine.jsonl") + _rows("rows-zoos01-nine.jsonl")
    assert sum(r["name"].startswith(f"zoo{new[0]}/") for r in rows) == n_rows
    before = [*FIRST_TWO, *ZOOS, EIGHTH, NINTH, TENTH, ELEVENTH, TWELFTH][: int(new[0])]  # zoos 0 .. new - 1
    seen = tt.evaluate(_at(*before), rows)["results"]["gap-natural-nine"]
    for by, want in frozen.items():  # fitted before the zoo existed: its rows are not in this set
        got = tt.frozen_folds(seen, new[0], by)["thresholds"]
        assert {f: round(got[f], 4) for f in want} == want
    out = tt.evaluate(_at(*before, new), rows)
    assert _counts(out["zoos"][f"zoo{new[0]} gap-natural-nine"]) == fixed  # (B)
    for by, want in at_frozen.items():  # (A)
        assert _counts(tt.frozen_folds(out["results"]["gap-natural-nine"], new[0], by))[:4] == want
    assert {k: _counts(out["pooled"][k]) for k in pooled} == pooled  # (C)
