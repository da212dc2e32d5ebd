"""Rates, not examples: run a backdoor detector over the members of a trojan zoo (:mod:`peephole_lab.data.zoo`) and
count how often it is right.

* **detection rate**: backdoored models whose target class is flagged;
* **wrong-class rate**: backdoored models with a flag, none of them on the target;
* **false-alarm rate**: clean models with any class flagged;
* **ROC** over the threshold: a model's score is its largest anomaly among eligible classes
  (:meth:`BackdoorReport.score`); AUC = P(score of a backdoored model > score of a clean one), ties count ½
  (Mann–Whitney); the CSV also lists detection, wrong-class and false-alarm rates at every threshold;
* **time per model**: wall-clock seconds of the scan (a ratio between detectors is meaningful only in one run).
"""

from __future__ import annotations

import csv
import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from peephole.errors import InputError, PeepholeError
from peephole_lab.systems.backdoor import BackdoorReport

DETECTORS = ("input-agnostic", "neural-cleanse")


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


def evaluate_detector(
    members: Sequence[Any],
    detector: str = "input-agnostic",
    threshold: float | None = None,
    windows: Sequence[int] | None = None,
    progress: bool = False,
    **options: Any,
) -> dict[str, Evaluation]:
    """:func:`evaluate` with a named detector (``DETECTORS``) and its options (``detect_backdoor`` or
    ``neural_cleanse`` keywords). For the input-agnostic scan, ``windows`` re-scores each scan with every window
    (keys ``'window=W'``); otherwise one evaluation under key ``''``."""
    from peephole_lab.systems.backdoor import THRESHOLD, detect_backdoor, score_scan
    from peephole_lab.systems.neural_cleanse import neural_cleanse

    if detector not in DETECTORS:
        raise InputError(f"unknown detector {detector!r}; use one of {DETECTORS}")
    settings = {k: (v if isinstance(v, (int, float, str, bool, type(None))) else "array") for k, v in options.items()}
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
