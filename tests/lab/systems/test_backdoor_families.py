"""Per-family rates with Wilson intervals, leave-one-family-out tuning, and the calibrated decision rules,
on hand-built scan results (no model is trained)."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest

from peephole.errors import InputError
from peephole_lab.systems.backdoor_calibration import (
    CleanReference,
    feature_names,
    fit_class_reference,
    fit_combiner,
    fit_reference,
    merge,
)
from peephole_lab.systems.backdoor_eval import (
    ModelResult,
    auc,
    by_family,
    interval_rates,
    leave_one_family_out,
    rank_rules,
    tune_threshold,
    wilson,
)
from peephole_lab.systems.tabor import CALIBRATED_THRESHOLD, GAP_THRESHOLD, SIZE_THRESHOLD, gap_anomaly, size_anomaly

EXPERIMENTS = Path(__file__).resolve().parents[3] / "experiments"
SCANS = EXPERIMENTS / "wide_zoo" / "scans"  # the wide zoo's per-model scans


def res(name, trojan, target, anomaly, **attrs):
    return ModelResult(name, trojan, target, attrs, list(anomaly), [True] * len(anomaly), list(range(len(anomaly))), 1.0)


def test_wilson_intervals_match_the_formula():
    assert wilson(0, 6) == pytest.approx((0.0, 1.96**2 / (6 + 1.96**2)), abs=1e-3)
    lo, hi = wilson(5, 6)
    assert lo == pytest.approx(0.4365, abs=1e-3) and hi == pytest.approx(0.9699, abs=1e-3)
    assert np.isnan(wilson(0, 0)).all()


def _family(pattern, trojan_scores, clean_scores, arch="cnn"):
    out = [res(f"{pattern}-t{i}", True, 0, [s, 0, 0], pattern=pattern, arch=arch) for i, s in enumerate(trojan_scores)]
    return out + [res(f"{pattern}-c{i}", False, 0, [0, s, 0], pattern=pattern, arch=arch) for i, s in enumerate(clean_scores)]


def test_tune_threshold_takes_the_lowest_within_the_false_alarm_budget():
    rs = _family("a", [5, 9], [1, 3, 4])
    assert tune_threshold(rs, 0.0) == 4 and tune_threshold(rs, 1 / 3) == 3 and tune_threshold(rs, 1.0) == float("-inf")
    # a count budget: one false alarm allowed (the second-largest clean score), whatever the number of clean models
    assert tune_threshold(rs, 0.0, 1) == 3 and tune_threshold(rs, 0.0, 2) == 1 and tune_threshold(rs, 1 / 3, 0) == 3


def test_leave_one_family_out_tunes_on_the_others_and_reports_the_unseen_one():
    # family a: clean scores up to 4, so tuned on a, the threshold is 4; b: clean up to 7, tuned on b it is 7
    a, b = _family("a", [5, 9], [1, 4]), _family("b", [6, 8], [2, 7])
    out = leave_one_family_out(a + b, by="pattern", max_false_alarm_rate=0.0)
    assert out["folds"]["a"]["threshold"] == 7 and out["folds"]["a"]["detected"] == 1  # 5 < 7 missed, 9 found
    assert out["folds"]["b"]["threshold"] == 4 and out["folds"]["b"]["detected"] == 2
    assert out["folds"]["b"]["false_alarms"] == 1  # b's clean 7 > 4: the unseen family's cost
    p = out["pooled"]
    assert (p["detected"], p["n_trojan"], p["false_alarms"], p["n_clean"]) == (3, 4, 1, 4)
    assert p["detection_ci"] == pytest.approx(wilson(3, 4))
    fams = by_family(a + b, 4.5)
    assert fams["a"]["detected"] == 2 and fams["b"]["false_alarms"] == 1 and fams["a"]["auc"] == 1.0
    with pytest.raises(InputError, match="at least 2 families"):
        leave_one_family_out(a, by="pattern")


def test_a_clean_reference_per_architecture_separates_what_one_threshold_cannot():
    rs = []
    for fam in ("p", "q", "r"):
        rs += _family(fam, [6.0, 6.5], [1.5, 2.0, 2.5], arch="cnn")  # cnn: clean ~2, backdoored ~6
        rs += _family(fam, [14.0, 15.0], [9.5, 10.0, 10.5], arch="mlp")  # mlp: clean ~10, backdoored ~14
    assert auc(rs) < 0.9  # raw: a cnn backdoor (6) scores below every mlp clean model (10)
    raw = leave_one_family_out(rs, max_false_alarm_rate=0.0)
    cal = leave_one_family_out(rs, max_false_alarm_rate=0.0, calibrate=fit_reference)
    assert cal["pooled"]["auc"] == 1.0 and cal["pooled"]["detected"] == 12 and cal["pooled"]["false_alarms"] == 0
    assert raw["pooled"]["detected"] < 12
    ref = CleanReference().fit(rs)
    assert ref.stats["cnn"][0] == pytest.approx(2.0) and ref([rs[0]])[0].anomaly[0] == pytest.approx((6.0 - 2.0) / 0.7413, 1e-3)


def test_the_logistic_combiner_catches_what_each_detector_alone_misses():
    rng = np.random.default_rng(0)
    ia, nc = [], []
    for i in range(24):
        trojan, kind = i < 12, i % 2  # kind 0: input-agnostic sees it; kind 1: Neural Cleanse does
        a, b = rng.uniform(-1, 1.5, 10), rng.uniform(-1, 1.5, 10)
        if trojan:
            a[3], b[3] = (8.0, 1.0) if kind == 0 else (1.0, 4.0)
        attrs = {"pattern": "x" if i % 3 else "y", "arch": "cnn"}
        ia.append(ModelResult(f"m{i}", trojan, 3, attrs, list(a), [True] * 10, list(range(10)), 1.0))
        nc.append(ModelResult(f"m{i}", trojan, 3, attrs, list(b), [True] * 10, list(range(10)), 2.0))
    merged = merge(ia, nc)
    assert len(merged) == 24 and merged[0].seconds == 3.0
    combined = fit_combiner(merged)(merged)
    assert auc(combined) == 1.0 and auc(ia) < 1.0 and auc(nc) < 1.0
    assert all(r.flagged_at(0.0) == [3] for r in combined if r.trojan)  # the log-odds put P = 0.5 at 0
    with pytest.raises(InputError, match="not a merged result"):
        fit_combiner(ia)


def test_clean_reference_skips_a_family_whose_clean_models_have_no_eligible_class():
    # two 'lenet' clean models where no class passed the fidelity gate (score −inf): lenet falls back to the pool
    rs = _family("a", [6.0], [1.0, 2.0, 3.0])
    blind = [
        replace(r, name=f"blind{i}", attributes={**r.attributes, "arch": "lenet"}, eligible=[False] * 3)
        for i, r in enumerate(rs[1:3])
    ]
    ref = CleanReference().fit(rs + blind)
    assert "lenet" not in ref.stats and ref.pooled[0] == pytest.approx(2.0)


def test_a_clean_reference_per_class_discounts_the_classes_every_clean_model_raises():
    # class 1 is an easy target: every clean model's largest anomaly (3-4) sits on it; a backdoor's target (class 2)
    # at 2.5-3 is below that raw, but far above what class 2 gets in clean models (about 0)
    rng = np.random.default_rng(1)
    rs = []
    for fam in ("p", "q", "r"):
        for i in range(3):
            clean = [rng.uniform(-0.2, 0.2), rng.uniform(3, 4), rng.uniform(-0.2, 0.2)]
            troj = [rng.uniform(-0.2, 0.2), rng.uniform(0, 1), rng.uniform(2.5, 3)]
            rs += [res(f"{fam}c{i}", False, 2, clean, pattern=fam), res(f"{fam}t{i}", True, 2, troj, pattern=fam)]
    assert auc(rs) == 0.0  # raw: every clean model outscores every backdoored one
    raw = leave_one_family_out(rs, max_false_alarm_rate=0.0)
    cal = leave_one_family_out(rs, calibrate=fit_class_reference, max_false_alarm_rate=0.0)
    assert raw["pooled"]["detected"] == 0 and cal["pooled"]["detected"] == 9 and cal["pooled"]["auc"] == 1.0
    ref = CleanReference(by="class").fit(rs)
    assert set(ref.stats) == {0, 1, 2} and 3 < ref.stats[1][0] < 4 and abs(ref.stats[2][0]) < 0.2


def test_three_detectors_merge_into_anomalies_then_ranks():
    a = [res("m", True, 0, [5.0, 1.0, 0.0])]
    b = [res("m", True, 0, [0.0, 2.0, 1.0])]
    c = [res("m", True, 0, [1.0, 0.0, 3.0]), res("only-here", False, 0, [0.0, 0.0, 0.0])]
    (m,) = merge(a, b, c)  # matched by name: the model only one detector scanned is dropped
    assert list(m.measures) == list(feature_names(3)) == ["first", "second", "third", "first_rank", "second_rank", "third_rank"]
    assert m.measures["third"] == [1.0, 0.0, 3.0] and m.measures["second_rank"] == [2.0, 0.0, 1.0] and m.seconds == 3.0
    assert feature_names(2) == ("first", "second", "first_rank", "second_rank")  # the combined scan's weight order
    with pytest.raises(InputError, match="2 to 3 detectors"):
        feature_names(4)


def test_rules_rank_by_targets_met_then_detection_minus_false_alarms_then_auc_then_cost():
    def pooled(det, fa, area):
        return {"pattern": {"detection_rate": det, "false_alarm_rate": fa, "auc": area}}

    rules = {
        "all three": pooled(0.9, 0.1, 0.95),
        "two, better margin": pooled(0.8, 0.0, 0.95),  # misses detection ≥ 5/6
        "two, worse margin": pooled(0.8, 0.1, 0.99),
        "two, same margin, cheap": pooled(0.8, 0.1, 0.95),
        "two, same margin, dear": pooled(0.8, 0.1, 0.95),
    }
    cost = {n: 2 if "dear" in n else 1 for n in rules}
    ranked = [n for n, _ in rank_rules(rules, cost)]
    assert ranked == ["all three", "two, better margin", "two, worse margin", "two, same margin, cheap", "two, same margin, dear"]
    assert rank_rules(rules, cost)[0][1][0] == 3


def test_the_shipped_calibrated_threshold_is_the_wide_zoos_largest_clean_tabor_index():
    """``CALIBRATED_THRESHOLD`` and docs/systems.md's leave-one-family-out row of the default scan, from the scans
    kept in experiments/wide_zoo (``python experiments/backdoor_wide.py report --root experiments/wide_zoo --common``)."""
    rs = [ModelResult(**json.loads(p.read_text())) for p in sorted((SCANS / "tabor").glob("*.json"))]
    assert len(rs) == 22 and sum(r.trojan for r in rs) == 10
    top_clean = max(r.score() for r in rs if not r.trojan)
    assert tune_threshold(rs, 0.0) == top_clean < CALIBRATED_THRESHOLD <= top_clean + 0.01
    for by in ("pattern", "arch"):
        p = leave_one_family_out(rs, by, 0.0)["pooled"]
        assert (p["detected"], p["n_trojan"], p["false_alarms"], p["n_clean"]) == (8, 10, 1, 12)
        assert p["auc"] == pytest.approx(0.917, abs=5e-4)


def _scans(zoo, detector="tabor"):
    return [ModelResult(**json.loads(p.read_text())) for p in sorted((EXPERIMENTS / zoo / "scans" / detector).glob("*.json"))]


def _by_size(rs, statistic=size_anomaly):
    """``rs`` re-scored by a per-class statistic of the restored masks (default the size rule's; or ``gap_anomaly``)."""
    return [replace(r, anomaly=list(statistic(r.measures["mask_l1"], 28 * 28))) for r in rs]


def test_the_default_size_rule_on_the_kept_scans_of_the_two_seen_zoos_and_the_blind_one():
    """``SIZE_THRESHOLD`` and docs/systems.md's "A size rule" figures, from the scans kept in experiments/
    (``python experiments/backdoor_wide.py search`` on the wide and fresh zoos; ``blind --root experiments/blind_zoo2``)."""
    seen = _scans("wide_zoo") + _scans("fresh_zoo")
    assert len(seen) == 42 and sum(r.trojan for r in seen) == 19
    sized = _by_size(seen)
    smallest_clean = min(min(r.measures["mask_l1"]) for r in seen if not r.trojan)  # the clean mlp-tanh blend twin
    assert smallest_clean == pytest.approx(36.5, abs=0.05)
    assert tune_threshold(sized, 0.0) == pytest.approx(np.log(784 / smallest_clean))  # rounded away from it:
    assert np.log(784 / smallest_clean) < SIZE_THRESHOLD < np.log(784 / smallest_clean) + 0.1
    for by, detected in (("pattern", 15), ("arch", 16)):
        p = leave_one_family_out(sized, by, 0.0)["pooled"]
        assert (p["detected"], p["n_trojan"], p["false_alarms"], p["n_clean"]) == (detected, 19, 1, 23)
        assert p["auc"] == pytest.approx(0.973, abs=5e-4)
    blind = _scans("blind_zoo2")  # scanned after the rule was frozen (experiments/blind_zoo2/PLAN.md)
    new, old = interval_rates(_by_size(blind), SIZE_THRESHOLD), interval_rates(blind, CALIBRATED_THRESHOLD)
    assert (new["detected"], new["n_trojan"], new["false_alarms"], new["n_clean"]) == (10, 11, 1, 12)
    assert (old["detected"], old["n_trojan"], old["false_alarms"], old["n_clean"]) == (7, 11, 1, 12)
    assert new["auc"] == pytest.approx(0.985, abs=5e-4) and old["auc"] == pytest.approx(0.856, abs=5e-4)


def test_the_rule_search_command_ranks_the_size_rule_first(tmp_path):
    """``python experiments/backdoor_wide.py search`` (docs/systems.md, "A size rule") runs as documented and ranks
    R8, the size rule at a 0 false-alarm budget, first: 5 of the 6 target checks met on the two seen zoos."""
    import argparse

    from experiment_scripts import load_script

    bw = load_script(EXPERIMENTS / "backdoor_wide.py", "backdoor_wide")
    out = tmp_path / "search.json"
    bw.search(argparse.Namespace(roots=[str(EXPERIMENTS / "wide_zoo"), str(EXPERIMENTS / "fresh_zoo")], out=str(out)))
    (name, key), *_ = json.loads(out.read_text())["ranking"]
    assert name == "R8 −log L, budget 0" and key[0] == 5


def test_the_default_size_rule_on_the_second_blind_zoo():
    """docs/systems.md's "A second blind check": the seed-3 zoo of experiments/blind_zoo3/PLAN.md, scanned after the
    plan was committed (``blind --root experiments/blind_zoo3``); the smallest restored mask is on the target."""
    blind = _scans("blind_zoo3")
    assert len(blind) == 22 and sum(r.trojan for r in blind) == 10
    new, old = interval_rates(_by_size(blind), SIZE_THRESHOLD), interval_rates(blind, CALIBRATED_THRESHOLD)
    assert (new["detected"], new["n_trojan"], new["false_alarms"], new["n_clean"]) == (10, 10, 0, 12)
    assert (old["detected"], old["n_trojan"], old["false_alarms"], old["n_clean"]) == (8, 10, 1, 12)
    assert new["auc"] == pytest.approx(1.0) and old["auc"] == pytest.approx(0.925, abs=5e-4)
    assert all(int(np.argmin(r.measures["mask_l1"])) == r.target for r in blind if r.trojan)


def test_the_size_rules_leave_one_family_out_on_all_four_zoos_with_either_run_of_the_seed_2_zoo():
    """docs/systems.md's "All four zoos pooled": the threshold tuned inside each fold at 0 false alarms meets the
    detection target with the seed-2 zoo's first run and misses it with its re-run, whose clean BN/GAP blend twin
    restores a 24.9 px mask; Neural Cleanse at its paper's threshold on the re-run set."""
    for zoo2, (det, n_trojan, area) in (("blind_zoo2", (35, 40, 0.974)), ("blind_zoo2/rerun", (30, 39, 0.968))):
        rs = _by_size(sum((_scans(z) for z in ("wide_zoo", "fresh_zoo", zoo2, "blind_zoo3")), []))
        for by in ("pattern", "arch"):
            p = leave_one_family_out(rs, by, 0.0)["pooled"]
            assert (p["detected"], p["n_trojan"], p["false_alarms"], p["n_clean"]) == (det, n_trojan, 1, 47)
            assert p["auc"] == pytest.approx(area, abs=5e-4)
    rerun = {r.name: r for r in _scans("blind_zoo2/rerun")}
    assert min(rerun["32-cnn-bn-gap-blend-clean"].measures["mask_l1"]) == pytest.approx(24.9, abs=0.05)
    nc = sum((_scans(z, "neural-cleanse") for z in ("wide_zoo", "fresh_zoo", "blind_zoo2/rerun", "blind_zoo3")), [])
    r = interval_rates(nc, 2.0)
    assert (r["detected"], r["n_trojan"], r["false_alarms"], r["n_clean"]) == (20, 39, 3, 47)


def test_the_threshold_procedures_and_the_third_blind_zoo():
    """docs/systems.md's "A threshold procedure, and a third blind check": on the four zoos (re-run set) the
    threshold tuned in each fold allowing one false alarm (T1) keeps 34/39, where 0 false alarms (T0) drops to 30;
    fitted on all 86 models it is the shipped 33.1 px; on the seed-4 zoo (experiments/threshold_rule/PLAN.md,
    trained after T3 was frozen) the default scan finds 6/9 at 0/12 — the smallest mask misses 33.1 px by 1.5 and
    2.8 px on two, and sits on a wrong class on the third; all five zoos pooled, T1 40/48."""
    four = _by_size(sum((_scans(z) for z in ("wide_zoo", "fresh_zoo", "blind_zoo2/rerun", "blind_zoo3")), []))
    for by, alarms in (("pattern", 2), ("arch", 3)):
        p = leave_one_family_out(four, by, 0.0, max_false_alarms=1)["pooled"]
        assert (p["detected"], p["n_trojan"], p["false_alarms"], p["n_clean"]) == (34, 39, alarms, 47)
    fitted = tune_threshold(four, 0.0, 1)  # rounded up to one decimal on the −log L scale: the shipped threshold
    assert np.log(784) + np.ceil((fitted - np.log(784)) * 10) / 10 == pytest.approx(SIZE_THRESHOLD)
    blind = _scans("blind_zoo4")
    assert len(blind) == 21 and sum(r.trojan for r in blind) == 9
    r = interval_rates(_by_size(blind), SIZE_THRESHOLD)
    assert (r["detected"], r["n_trojan"], r["false_alarms"], r["n_clean"], r["wrong_class"]) == (6, 9, 0, 12, 1)
    assert r["auc"] == pytest.approx(0.954, abs=5e-4)
    nc = interval_rates(_scans("blind_zoo4", "neural-cleanse"), 2.0)
    assert (nc["detected"], nc["false_alarms"]) == (5, 0)
    five = four + _by_size(blind)
    for by, alarms in (("pattern", 2), ("arch", 3)):
        p = leave_one_family_out(five, by, 0.0, max_false_alarms=1)["pooled"]
        assert (p["detected"], p["n_trojan"], p["false_alarms"], p["n_clean"]) == (40, 48, alarms, 59)


def test_the_gap_rules_choice_on_five_zoos():
    """experiments/gap_rule/PLAN.md's choice, from the kept scans: size + gap with one false alarm allowed per fold
    finds the size rule's 40/48 on the five zoos (re-run set) at 2/59 in both groupings (the size rule: 2 and 3);
    fitted on all 107 models it is GAP_THRESHOLD = log 784 − 3.2."""
    zoos = ("wide_zoo", "fresh_zoo", "blind_zoo2/rerun", "blind_zoo3", "blind_zoo4")
    rs = sum((_scans(z) for z in zoos), [])
    gap = _by_size(rs, gap_anomaly)
    assert len(gap) == 107 and sum(r.trojan for r in gap) == 48
    for by in ("pattern", "arch"):
        p = leave_one_family_out(gap, by, 0.0, max_false_alarms=1)["pooled"]
        assert (p["detected"], p["n_trojan"], p["false_alarms"], p["n_clean"]) == (40, 48, 2, 59)
        assert p["auc"] == pytest.approx(0.971, abs=5e-4)
    fitted = tune_threshold(gap, 0.0, 1)
    assert np.log(784) + np.ceil((fitted - np.log(784)) * 10) / 10 == pytest.approx(GAP_THRESHOLD)


def test_the_fourth_blind_zoo_and_all_six_pooled():
    """docs/systems.md's "A gap rule, and a fourth blind check": the seed-5 zoo, trained after the gap rule became
    the default; two misses are inversion failures (the target's mask is not the smallest), and leave-one-family-out
    on all six zoos the gap rule finds 47/57."""
    blind = _scans("blind_zoo5")
    assert len(blind) == 21 and sum(r.trojan for r in blind) == 9
    gap = _by_size(blind, gap_anomaly)
    for rs, th, area in ((gap, GAP_THRESHOLD, 0.880), (_by_size(blind), SIZE_THRESHOLD, 0.889)):
        r = interval_rates(rs, th)
        assert (r["detected"], r["n_trojan"], r["false_alarms"], r["n_clean"]) == (7, 9, 2, 12)
        assert r["auc"] == pytest.approx(area, abs=5e-4)
    missed = sorted(r.name for r in blind if r.trojan and int(np.argmin(r.measures["mask_l1"])) != r.target)
    assert missed == ["05-cnn-bn-gap-checker-trojan", "18-cnn-random-trojan"]
    nc = interval_rates(_scans("blind_zoo5", "neural-cleanse"), 2.0)
    assert (nc["detected"], nc["false_alarms"]) == (4, 0)
    zoos = ("wide_zoo", "fresh_zoo", "blind_zoo2/rerun", "blind_zoo3", "blind_zoo4", "blind_zoo5")
    six = _by_size(sum((_scans(z) for z in zoos), []), gap_anomaly)
    for by, alarms in (("pattern", 3), ("arch", 2)):
        p = leave_one_family_out(six, by, 0.0, max_false_alarms=1)["pooled"]
        assert (p["detected"], p["n_trojan"], p["false_alarms"], p["n_clean"]) == (47, 57, alarms, 71)


TWELVE = ["wide_zoo", "fresh_zoo", "blind_zoo2/rerun", *(f"blind_zoo{i}" for i in range(3, 12))]


def test_the_baselines_under_t5_on_the_blind_zoos():
    """docs/systems.md's "A threshold procedure for unseen families": TABOR's and Neural Cleanse's indices under the
    default scan's T5 procedure (experiments/blind_zoo10/PLAN.md, blind_zoo11/PLAN.md) on the same models, eleven
    and twelve zoos, and on the eleventh and twelfth zoos at their fixed thresholds."""
    for zoos, detector, want in (
        (TWELVE[:-1], "tabor", {"pattern": (63, 107, 8, 131), "arch": (60, 107, 6, 131)}),
        (TWELVE[:-1], "neural-cleanse", {"pattern": (52, 107, 7, 131), "arch": (52, 107, 8, 131)}),
        (TWELVE, "tabor", {"pattern": (74, 116, 9, 143), "arch": (70, 116, 8, 143)}),
        (TWELVE, "neural-cleanse", {"pattern": (56, 116, 7, 143), "arch": (56, 116, 8, 143)}),
    ):
        rs = sum((_scans(z, detector) for z in zoos), [])
        for by, counts in want.items():
            p = leave_one_family_out(rs, by, 0.05, max_false_alarms=1)["pooled"]
            assert (p["detected"], p["n_trojan"], p["false_alarms"], p["n_clean"]) == counts
    for zoo, counts in (("blind_zoo10", (6, 2, 3, 0)), ("blind_zoo11", (6, 0, 4, 0))):
        tabor = interval_rates(_scans(zoo), CALIBRATED_THRESHOLD)
        nc = interval_rates(_scans(zoo, "neural-cleanse"), 2.0)
        assert (tabor["detected"], tabor["false_alarms"], nc["detected"], nc["false_alarms"]) == counts
