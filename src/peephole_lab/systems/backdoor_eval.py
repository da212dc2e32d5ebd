"""Rates, not examples: run a backdoor detector over the members of a trojan zoo (:mod:`peephole_lab.data.zoo`) and
count how often it is right.

* **detection rate**: backdoored models whose target class is flagged;
* **wrong-class rate**: backdoored models with a flag, none of them on the target;
* **false-alarm rate**: clean models with any class flagged;
* **ROC** over the threshold: a model's score is its largest anomaly among eligible classes
  (:meth:`BackdoorReport.score`); AUC = P(score of a backdoored model > score of a clean one), ties count ½
  (Mann–Whitney); the CSV also lists detection, wrong-class and false-alarm rates at every threshold;
* **time per model**: wall-clock seconds of the scan (a ratio between detectors is meaningful only in one run);
* **per family** (:func:`by_family`) and **leave-one-family-out** (:func:`leave_one_family_out`): the threshold is
  tuned on the other families (the lowest whose false-alarm rate there is at most ``max_false_alarm_rate``) and
  the rates are reported on the family left out, never seen while tuning; rates carry Wilson 95 % intervals
  (Wilson 1927, via :func:`scipy.stats.binomtest`).
"""

from __future__ import annotations

import csv
import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from peephole.core.options import require, require_count
from peephole.errors import InputError, PeepholeError
from peephole_lab.systems.backdoor import BackdoorReport

#: the input-agnostic scan, Neural Cleanse, TABOR at the paper's threshold, the two previous default scans, the default
DETECTORS = ("input-agnostic", "neural-cleanse", "tabor", "tabor-calibrated", "tabor-size", "tabor-gap", "tabor-natural")


@dataclass
class ModelResult:
    """One zoo member's scan: what the detector saw and whether it was right."""

    name: str
    trojan: bool
    target: int
    attributes: dict[str, Any]  #: arch, pattern, position, size, fraction, attack success
    anomaly: list[float]
    eligible: list[bool]
    targets: list[int]
    seconds: float
    error: str = ""
    measures: dict[str, list[float]] = field(default_factory=dict)  #: the report's per-class columns

    def flagged_at(self, threshold: float) -> list[int]:
        return [t for t, a, ok in zip(self.targets, self.anomaly, self.eligible) if a > threshold and ok]

    def score(self) -> float:
        vals = [a for a, ok in zip(self.anomaly, self.eligible) if ok]
        return max(vals) if vals else float("-inf")


def rates(results: Sequence[ModelResult], threshold: float) -> dict[str, float]:
    """Detection, wrong-class and false-alarm rates (and counts) of ``results`` at ``threshold``."""
    ok = [r for r in results if not r.error]
    troj, clean = [r for r in ok if r.trojan], [r for r in ok if not r.trojan]
    hit = sum(r.target in r.flagged_at(threshold) for r in troj)
    wrong = sum(bool(r.flagged_at(threshold)) and r.target not in r.flagged_at(threshold) for r in troj)
    alarm = sum(bool(r.flagged_at(threshold)) for r in clean)
    return {
        "threshold": threshold,
        "n_trojan": len(troj),
        "n_clean": len(clean),
        "detected": hit,
        "wrong_class": wrong,
        "false_alarms": alarm,
        "detection_rate": hit / len(troj) if troj else float("nan"),
        "wrong_class_rate": wrong / len(troj) if troj else float("nan"),
        "false_alarm_rate": alarm / len(clean) if clean else float("nan"),
        "seconds_per_model": float(np.mean([r.seconds for r in ok])) if ok else float("nan"),
        "errors": len(results) - len(ok),
    }


def auc(results: Sequence[ModelResult]) -> float:
    """P(score of a backdoored model > score of a clean one), ties ½."""
    pos = np.array([r.score() for r in results if r.trojan and not r.error])
    neg = np.array([r.score() for r in results if not r.trojan and not r.error])
    if not len(pos) or not len(neg):
        return float("nan")
    return float(((pos[:, None] > neg[None]).sum() + 0.5 * (pos[:, None] == neg[None]).sum()) / (len(pos) * len(neg)))


def roc(results: Sequence[ModelResult]) -> list[dict[str, float]]:
    """The rates at every distinct model score used as threshold (flag when anomaly > threshold), plus −inf."""
    scores = sorted({r.score() for r in results if not r.error and np.isfinite(r.score())})
    return [rates(results, t) for t in [float("-inf"), *scores]]


def wilson(k: int, n: int) -> tuple[float, float]:
    """Wilson score 95 % interval of ``k`` successes in ``n`` trials ((nan, nan) when n = 0)."""
    if n == 0:
        return float("nan"), float("nan")
    from scipy.stats import binomtest

    ci = binomtest(k, n).proportion_ci(confidence_level=0.95, method="wilson")
    return float(ci.low), float(ci.high)


def interval_rates(results: Sequence[ModelResult], threshold: float) -> dict[str, Any]:
    """:func:`rates` plus Wilson intervals of the detection and false-alarm rates and the ROC AUC."""
    r: dict[str, Any] = dict(rates(results, threshold))
    r["detection_ci"] = wilson(int(r["detected"]), int(r["n_trojan"]))
    r["false_alarm_ci"] = wilson(int(r["false_alarms"]), int(r["n_clean"]))
    r["auc"] = auc(results)
    return r


def tune_threshold(results: Sequence[ModelResult], max_false_alarm_rate: float, max_false_alarms: int = 0) -> float:
    """The lowest threshold (among the models' scores, and +inf) whose false alarms on ``results`` are at most
    ``max_false_alarm_rate`` of the clean models or at most ``max_false_alarms`` of them, whichever allows more: the
    most detections the false-alarm budget allows."""
    for row in roc(results):
        if row["false_alarm_rate"] <= max_false_alarm_rate or row["false_alarms"] <= max_false_alarms:
            return float(row["threshold"])
    return float("inf")


def family_of(r: ModelResult, by: str) -> str:
    """The family of a result: an attribute (``'arch'``, ``'pattern'``, ``'family'``); a clean twin carries its
    backdoored twin's trigger attributes, so it falls in its twin's trigger family."""
    if by not in r.attributes:
        raise InputError(f"results have no attribute {by!r} to group by; they have {sorted(r.attributes)}")
    return str(r.attributes[by])


def by_family(results: Sequence[ModelResult], threshold: float, by: str = "pattern") -> dict[str, dict[str, Any]]:
    """:func:`interval_rates` of every family at one threshold."""
    fams = sorted({family_of(r, by) for r in results})
    return {f: interval_rates([r for r in results if family_of(r, by) == f], threshold) for f in fams}


Calibration = Callable[[Sequence[ModelResult]], Callable[[Sequence[ModelResult]], list[ModelResult]]]


def leave_one_family_out(
    results: Sequence[ModelResult],
    by: str = "pattern",
    max_false_alarm_rate: float = 1 / 6,
    calibrate: Calibration | None = None,
    max_false_alarms: int = 0,
) -> dict[str, Any]:
    """For each family F: fit ``calibrate`` (if given: seen results -> a re-scoring of results, e.g.
    :class:`~peephole_lab.systems.backdoor_calibration.CleanReference`) and tune the threshold
    (:func:`tune_threshold`, at ``max_false_alarm_rate`` or ``max_false_alarms``) on the other families only, then
    report :func:`interval_rates` on F. ``'pooled'``: the unseen-family counts summed over the folds (each model is
    unseen once) with Wilson intervals, and the AUC of
    every model's unseen-fold score."""
    fams = sorted({family_of(r, by) for r in results})
    if len(fams) < 2:
        raise InputError(f"leave-one-family-out needs at least 2 families by {by!r}, got {fams}")
    folds: dict[str, Any] = {}
    scored: list[ModelResult] = []
    for f in fams:
        seen = [r for r in results if family_of(r, by) != f]
        unseen = [r for r in results if family_of(r, by) == f]
        if calibrate is not None:
            rescore = calibrate(seen)
            seen, unseen = rescore(seen), rescore(unseen)
        th = tune_threshold(seen, max_false_alarm_rate, max_false_alarms)
        folds[f] = {"threshold": th, **interval_rates(unseen, th)}
        scored += unseen
    tot = {k: sum(int(v[k]) for v in folds.values()) for k in ("detected", "n_trojan", "false_alarms", "n_clean", "wrong_class")}
    pooled = {
        **tot,
        "detection_rate": tot["detected"] / tot["n_trojan"] if tot["n_trojan"] else float("nan"),
        "false_alarm_rate": tot["false_alarms"] / tot["n_clean"] if tot["n_clean"] else float("nan"),
        "detection_ci": wilson(tot["detected"], tot["n_trojan"]),
        "false_alarm_ci": wilson(tot["false_alarms"], tot["n_clean"]),
        "auc": auc(scored),
    }
    budget = {"max_false_alarm_rate": max_false_alarm_rate, "max_false_alarms": max_false_alarms}
    return {"by": by, **budget, "folds": folds, "pooled": pooled}


#: the issue's targets for a detector on unseen families: detection rate ≥, false-alarm rate ≤, ROC AUC ≥
TARGETS = (5 / 6, 1 / 6, 0.9)
#: threshold procedure T5 (experiments/blind_zoo10/PLAN.md): ``(max_false_alarm_rate, max_false_alarms)`` for
#: :func:`tune_threshold` / :func:`leave_one_family_out`, 5 % of the seen clean models or one, whichever allows more
T5 = (0.05, 1)


def rank_rules(
    pooled: dict[str, dict[str, dict[str, Any]]], cost: dict[str, int], targets: tuple[float, float, float] = TARGETS
) -> list[tuple[str, tuple[int, float, float, int]]]:
    """Decision rules ranked best first by their pooled leave-one-family-out results ``pooled[rule][grouping]``
    (e.g. by trigger and by architecture family): the number of ``targets`` met summed over the groupings; ties:
    the larger mean of detection rate − false-alarm rate, then the larger mean AUC, then the smaller ``cost[rule]``
    (detectors to run). Each rule comes with that sort key."""

    def key(name: str) -> tuple[int, float, float, int]:
        ps = list(pooled[name].values())
        det, fa, area = targets
        met = sum(int(p["detection_rate"] >= det) + int(p["false_alarm_rate"] <= fa) + int(p["auc"] >= area) for p in ps)
        youden = float(np.mean([p["detection_rate"] - p["false_alarm_rate"] for p in ps]))
        return met, round(youden, 9), round(float(np.mean([p["auc"] for p in ps])), 9), -cost[name]

    return sorted(((n, key(n)) for n in pooled), key=lambda nk: nk[1], reverse=True)


def lofo_summary(out: dict[str, Any]) -> str:
    """Plain text of a :func:`leave_one_family_out` result: one line per family left out, then the pooled line."""

    def line(name: str, r: dict[str, Any]) -> str:
        d, f = r["detection_ci"], r["false_alarm_ci"]
        th = f" at threshold {r['threshold']:g}" if "threshold" in r else ""
        return (
            f"  {name}: detection {r['detected']}/{r['n_trojan']} (95% {d[0]:.2f}–{d[1]:.2f}), false alarms "
            f"{r['false_alarms']}/{r['n_clean']} (95% {f[0]:.2f}–{f[1]:.2f}){th}; AUC {r['auc']:.3f}"
        )

    lines = [line(k, v) for k, v in out["folds"].items()]
    return "\n".join([f"leave one {out['by']} family out:", *lines, line("pooled", out["pooled"])])


@dataclass
class Evaluation:
    """The results of one detector with one setting over some zoo members."""

    detector: str
    settings: dict[str, Any]
    threshold: float
    results: list[ModelResult]

    def rates(self, threshold: float | None = None) -> dict[str, float]:
        return rates(self.results, self.threshold if threshold is None else threshold)

    def auc(self) -> float:
        return auc(self.results)

    def summary(self) -> str:
        r = self.rates()
        return (
            f"{self.detector} {self.settings}: detection {r['detected']}/{r['n_trojan']} = {r['detection_rate']:.2f}, "
            f"wrong class {r['wrong_class']}/{r['n_trojan']} = {r['wrong_class_rate']:.2f}, "
            f"false alarms {r['false_alarms']}/{r['n_clean']} = {r['false_alarm_rate']:.2f} at threshold {self.threshold:g}; "
            f"AUC {self.auc():.3f}; {r['seconds_per_model']:.1f} s per model" + (f"; {r['errors']} errors" if r["errors"] else "")
        )

    def misses(self) -> list[ModelResult]:
        """Backdoored models whose target was not flagged, and clean models with a flag."""
        t = self.threshold
        wrong = [(r.target not in r.flagged_at(t)) if r.trojan else bool(r.flagged_at(t)) for r in self.results]
        return [r for r, w in zip(self.results, wrong) if w and not r.error]

    def write(self, folder: str | Path, stem: str) -> list[Path]:
        """``stem.json`` (settings, rates, every model), ``stem_roc.csv`` and ``stem_roc.png``."""
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt

        d = Path(folder)
        d.mkdir(parents=True, exist_ok=True)
        js = d / f"{stem}.json"
        payload = {
            "detector": self.detector,
            "settings": self.settings,
            "rates": self.rates(),
            "auc": self.auc(),
            "models": [r.__dict__ for r in self.results],
        }
        js.write_text(json.dumps(payload, indent=1, default=float))
        rows = roc(self.results)
        cs = d / f"{stem}_roc.csv"
        with cs.open("w", newline="") as f:
            w = csv.DictWriter(f, fieldnames=list(rows[0]))
            w.writeheader()
            w.writerows(rows)
        fig, ax = plt.subplots(figsize=(4, 4))
        fpr = [r["false_alarm_rate"] for r in rows] + [0.0]
        tpr = [r["detection_rate"] for r in rows] + [0.0]
        ax.plot(fpr, tpr, marker=".", drawstyle="steps-post")
        ax.plot([0, 1], [0, 1], ls=":", c="grey")
        ax.set(
            xlabel="false-alarm rate (clean models)",
            ylabel="detection rate (target flagged)",
            xlim=(-0.02, 1.02),
            ylim=(-0.02, 1.02),
        )
        ax.set_title(f"{self.detector}: AUC {self.auc():.3f}", fontsize=9)
        png = d / f"{stem}_roc.png"
        fig.tight_layout()
        fig.savefig(png, dpi=120)
        plt.close(fig)
        return [js, cs, png]


def _attributes(m: Any) -> dict[str, Any]:
    t = m.trigger
    return {
        "arch": m.arch,
        "pattern": t["pattern"],
        "position": m.position,
        "size": t["size"] if t["pattern"] != "blend" else None,
        "alpha": t["alpha"],
        "fraction": m.fraction,
        "attack_success": m.attack_success,
        "split": m.split,
    }


def evaluate(
    members: Sequence[Any],
    scan: Callable[[Any], BackdoorReport],
    detector: str,
    settings: dict[str, Any] | None = None,
    rescore: dict[str, Callable[[BackdoorReport], BackdoorReport]] | None = None,
    progress: bool = False,
) -> dict[str, Evaluation]:
    """Run ``scan(model) -> BackdoorReport`` over zoo ``members``. ``rescore`` maps a name to a function that
    re-scores the same scan another way (e.g. another window): one :class:`Evaluation` per name (default
    ``{'': identity}``). A model whose scan raises a Peephole error is recorded with the error; the rest go on."""
    from tqdm.auto import tqdm

    if not members:
        raise InputError("no zoo members to evaluate")
    rescore = rescore or {"": lambda r: r}
    out: dict[str, list[ModelResult]] = {k: [] for k in rescore}
    thresholds: dict[str, float] = {}
    for m in tqdm(members, desc=detector, unit="model", disable=not progress):
        try:
            report = scan(m.load())
        except PeepholeError as exc:
            for k in rescore:
                out[k].append(ModelResult(m.name, m.trojan, m.target, _attributes(m), [], [], [], 0.0, str(exc)))
            continue
        for k, fn in rescore.items():
            r = fn(report)
            thresholds[k] = r.threshold
            out[k].append(
                ModelResult(
                    m.name,
                    m.trojan,
                    m.target,
                    _attributes(m),
                    [float(a) for a in r.anomaly],
                    [bool(e) for e in r.eligible],
                    list(r.targets),
                    report.seconds,
                    measures={n: [float(v) for v in col] for n, col in r.measures.items()},
                )
            )
    return {
        k: Evaluation(detector, {**(settings or {}), **({"variant": k} if k else {})}, thresholds.get(k, float("nan")), v)
        for k, v in out.items()
    }


#: the detectors' count options: each a whole number >= 1 when given
COUNTS = ("n_iter", "epochs", "steps")


def check_detector_options(
    detector: str, threshold: float | None = None, windows: Sequence[int] | None = None, **options: Any
) -> None:
    """One :class:`InputError` for a detector name, threshold, window or count option that cannot work: checked before
    a zoo is built or scanned (each scan would otherwise fail the same way, after hours of training)."""
    if detector not in DETECTORS:
        raise InputError(f"unknown detector {detector!r}; use one of {DETECTORS}")
    require("threshold", threshold, "a finite number (or None)", lambda v: v is None or np.isfinite(v))
    for w in windows or ():
        require_count("window", w, 1)
    for name in COUNTS:
        require_count(name, options.get(name), 1)


def evaluate_detector(
    members: Sequence[Any],
    detector: str = "input-agnostic",
    threshold: float | None = None,
    windows: Sequence[int] | None = None,
    progress: bool = False,
    **options: Any,
) -> dict[str, Evaluation]:
    """:func:`evaluate` with a named detector (``DETECTORS``) and its options (``detect_backdoor`` or
    ``neural_cleanse`` / ``tabor`` keywords; ``'tabor-natural'`` is the default scan of
    :func:`~peephole_lab.systems.backdoor.scan_backdoor`). For the input-agnostic scan, ``windows`` re-scores each
    scan with every window (keys ``'window=W'``); otherwise one evaluation under key ``''``."""
    from peephole_lab.systems.backdoor import THRESHOLD, detect_backdoor, scan_backdoor, score_scan
    from peephole_lab.systems.neural_cleanse import neural_cleanse

    check_detector_options(detector, threshold, windows, **options)
    settings = {k: (v if isinstance(v, (int, float, str, bool, type(None))) else "array") for k, v in options.items()}
    if detector.startswith("tabor"):
        return evaluate(
            members, lambda net: scan_backdoor(net, detector, threshold, **options), detector, settings, progress=progress
        )
    if detector == "neural-cleanse":
        th = 2.0 if threshold is None else threshold
        return evaluate(members, lambda net: neural_cleanse(net, threshold=th, **options), detector, settings, progress=progress)
    th = THRESHOLD if threshold is None else threshold
    rescore = None
    if windows:
        rescore = {
            f"window={w}": (lambda r, w=w: score_scan(r.explanation, w, th, options.get("min_fidelity", 0.5))) for w in windows
        }
    return evaluate(members, lambda net: detect_backdoor(net, threshold=th, **options), detector, settings, rescore, progress)
