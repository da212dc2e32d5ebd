"""The evaluation over a zoo counts right: rates, wrong class, false alarms, AUC and ROC on hand-built cases."""

from __future__ import annotations

import csv
import json
from dataclasses import dataclass

import numpy as np
import pytest

from peephole.cli import main
from peephole.errors import InputError, ModelError
from peephole_lab.systems.backdoor import BackdoorReport
from peephole_lab.systems.backdoor_eval import Evaluation, ModelResult, auc, evaluate, evaluate_detector, rates, roc


def result(name, trojan, target, anomaly, eligible=None, seconds=1.0):
    el = eligible if eligible is not None else [True] * len(anomaly)
    return ModelResult(name, trojan, target, {}, list(anomaly), list(el), list(range(len(anomaly))), seconds)


# anomaly of classes 0..3; threshold 2
TOY = [
    result("t-hit", True, 1, [0, 9, 0, 0]),  # target flagged
    result("t-hit-and-other", True, 2, [5, 0, 6, 0]),  # target and another flagged: a detection
    result("t-wrong", True, 3, [0, 7, 0, 1]),  # only another class: wrong class
    result("t-miss", True, 0, [1, 0, 0, 0]),  # nothing flagged
    result("t-ineligible", True, 0, [9, 0, 0, 0], [False, True, True, True]),  # gate keeps it out
    result("c-ok", False, 0, [1, 1, 0, 0], seconds=3.0),
    result("c-alarm", False, 0, [0, 0, 4, 0], seconds=3.0),
    result("c-ok2", False, 0, [0, 1.5, 0, 0], seconds=3.0),
]


def test_rates_on_a_hand_built_case():
    r = rates(TOY, 2.0)
    assert (r["n_trojan"], r["n_clean"], r["detected"], r["wrong_class"], r["false_alarms"]) == (5, 3, 2, 1, 1)
    assert r["detection_rate"] == pytest.approx(0.4) and r["wrong_class_rate"] == pytest.approx(0.2)
    assert r["false_alarm_rate"] == pytest.approx(1 / 3) and r["seconds_per_model"] == pytest.approx((5 * 1 + 3 * 3) / 8)
    ev = Evaluation("toy", {}, 2.0, TOY)
    assert [r.name for r in ev.misses()] == ["t-wrong", "t-miss", "t-ineligible", "c-alarm"]
    strict = rates(TOY, 8.0)  # only t-hit's 9 is above
    assert (strict["detected"], strict["wrong_class"], strict["false_alarms"]) == (1, 0, 0)


def test_auc_and_roc_by_hand():
    # model scores: trojans 9, 6, 7, 1, 0 (ineligible 9 ignored); clean 1, 4, 1.5
    # pairs (trojan > clean): 9:3, 6:3, 7:3, 1: 0 + tie with 1 (½), 0: 0 -> 9.5 of 15
    assert auc(TOY) == pytest.approx(9.5 / 15)
    rows = roc(TOY)
    assert rows[0]["threshold"] == -np.inf and rows[0]["false_alarm_rate"] == 1.0
    assert [r["threshold"] for r in rows[1:]] == [0, 1, 1.5, 4, 6, 7, 9]
    assert rows[-1]["detected"] == 0 and rows[-1]["false_alarms"] == 0
    perfect = [result("t", True, 0, [5, 0, 0]), result("c", False, 0, [1, 0, 0])]
    assert auc(perfect) == 1.0


@dataclass
class FakeMember:
    name: str
    trojan: bool
    target: int
    fails: bool = False
    arch: str = "mlp"
    trigger: dict = None
    position: str = "centre"
    fraction: float = 0.1
    attack_success: float = 1.0
    split: str = "heldout"

    def __post_init__(self):
        self.trigger = {"pattern": "solid", "size": 3, "alpha": 1.0}

    def load(self):
        if self.fails:
            raise ModelError(f"{self.name}: broken file")
        return self


def fake_scan(m):
    a = np.zeros(4)
    if m.trojan:
        a[m.target] = 5.0
    return BackdoorReport("fake", [0, 1, 2, 3], a, np.ones(4, bool), 2.0, {"x": a}, seconds=0.5)


def test_evaluate_runs_a_scan_over_members_and_keeps_going_past_errors(tmp_path):
    members = [FakeMember("a", True, 1), FakeMember("b", False, 0), FakeMember("c", True, 2, fails=True)]
    ev = evaluate(members, fake_scan, "fake", {"k": 1})[""]
    r = ev.rates()
    assert (r["detected"], r["n_trojan"], r["false_alarms"], r["errors"]) == (1, 1, 0, 1)
    assert ev.results[2].error == "c: broken file" and ev.auc() == 1.0
    assert "detection 1/1 = 1.00" in ev.summary() and "1 errors" in ev.summary()
    js, cs, png = ev.write(tmp_path, "fake")
    payload = json.loads(js.read_text())
    assert payload["rates"]["detected"] == 1 and len(payload["models"]) == 3 and payload["settings"] == {"k": 1}
    rows = list(csv.DictReader(cs.open()))
    assert len(rows) == 3 and float(rows[-1]["threshold"]) == 5.0  # -inf, 0 (clean), 5 (trojan)
    assert png.stat().st_size > 0
    with pytest.raises(InputError, match="no zoo members"):
        evaluate([], fake_scan, "fake")
    with pytest.raises(InputError, match="unknown detector"):
        evaluate_detector(members, "strip")


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--n-iter", "-3"], "n_iter must be a whole number >= 1, got -3"),
        (["--window", "0"], "window must be a whole number >= 1, got 0"),
        (["--threshold", "nan"], "threshold must be a finite number"),
        (["--detector", "tabor", "--steps", "-1"], "steps must be a whole number >= 1, got -1"),
    ],
)
def test_backdoor_eval_refuses_settings_before_it_builds_a_zoo(tmp_path, monkeypatch, capsys, args, message):
    """A setting every scan would refuse is one error before the zoo is built (``--n-iter -3`` used to train the whole
    default zoo first)."""
    import peephole_lab.data.zoo as zoo

    def no_zoo(*a, **k):
        raise AssertionError("the zoo was built before the settings were checked")

    monkeypatch.setattr(zoo, "build_zoo", no_zoo)
    assert main(["backdoor-eval", *args, "--out", str(tmp_path / "o")]) == 2
    assert message in capsys.readouterr().err
