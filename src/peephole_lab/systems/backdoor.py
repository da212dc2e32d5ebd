"""Backdoor (trojan) detection with input-agnostic class saliency (Akhtar & Jalwana, AAAI 2023, Sec. on
compromised models): a trojaned class's map concentrates on the trigger, a clean class's map spreads over
the shape of the class.

For every class the map ``Σ_c |ρ_k|`` and the fidelity of ρ_k are computed (method ``'input-agnostic'``). Design
choices (the paper shows the signatures visually and gives no score):

* **Samples** generic images of every class where the model takes 1×28×28 inputs (MNIST validation images),
  uniform noise otherwise — with a warning: on noise the scan is unreliable (measured rates in ``NOISE_RATES``).
* **Concentration** ``c_k``: the share of the map's mass inside its densest ``window``×``window`` square
  (default 7% of the shorter side, at least 2 px: 2 px on MNIST; BadNets triggers are small compact patches).
* **Anomaly score** ``a_k = (c_k − median(c)) / (1.4826 · MAD(c))``, the robust z-score Neural Cleanse
  (Wang et al., S&P 2019) uses for its anomaly index; MAD is floored at 1e-3 so identical classes do not divide by 0.
* **Flag** the classes with ``a_k > threshold`` whose fidelity is at least ``min_fidelity`` (default 0.5):
  a trigger is a small perturbation that drives most inputs to its class.

The defaults were chosen on the development half of the trojan zoo (:mod:`peephole_lab.data.zoo`) and measured on
the held-out half (docs/systems.md).
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from dataclasses import dataclass, field
from time import perf_counter
from typing import Any

import cv2
import numpy as np

from peephole.errors import InputError
from peephole.result import Explanation

#: the input-agnostic scan's defaults, chosen on the development half of the zoo
THRESHOLD = 6.0
N_ITER = 30
WINDOW = 0.07  #: the window's side as a fraction of the image's shorter side (2 px on 28×28)
#: the rates the scan reached with uniform-noise samples on the held-out half of the zoo (docs/systems.md)
NOISE_RATES = "detection 8/13, false alarms 7/14 (ROC AUC 0.58, chance 0.5)"


@dataclass
class BackdoorReport:
    """Per-class scores of a backdoor scan (any detector); ``flagged`` lists the suspected target classes.

    ``anomaly``: higher is more suspicious; a class is flagged when its anomaly exceeds ``threshold`` and it is
    ``eligible`` (input-agnostic: fidelity ≥ min_fidelity; Neural Cleanse: every class).
    """

    method: str
    targets: list[int]
    anomaly: np.ndarray
    eligible: np.ndarray
    threshold: float
    measures: dict[str, np.ndarray] = field(default_factory=dict)  #: per-class columns of the table
    explanation: Explanation | None = None  #: the input-agnostic maps (None for Neural Cleanse)
    extras: dict[str, np.ndarray] = field(default_factory=dict)  #: e.g. Neural Cleanse's masks and patterns
    seconds: float = 0.0
    class_names: list[str] | None = None

    def flagged_at(self, threshold: float) -> list[int]:
        """The classes flagged with another threshold (for ROC curves)."""
        return [t for t, a, ok in zip(self.targets, self.anomaly, self.eligible) if a > threshold and ok]

    @property
    def flagged(self) -> list[int]:
        return self.flagged_at(self.threshold)

    def score(self) -> float:
        """The model's suspicion: the largest anomaly of an eligible class (−inf if none is eligible)."""
        ok = np.asarray(self.eligible, bool)
        return float(np.max(self.anomaly[ok])) if ok.any() else float("-inf")

    def figure_images(self) -> list[np.ndarray]:
        """One H×W image per class for a figure: the input-agnostic map, or else the restored trigger
        ``mask · pattern`` (averaged over channels) of Neural Cleanse / TABOR."""
        if self.explanation is not None:
            return list(self.explanation.maps)
        return list(self.extras["masks"] * self.extras["patterns"].mean(1))

    def table(self) -> str:
        """A plain-text table, one class a line, flagged classes marked with ``*``."""
        names = list(self.measures)
        lines = ["  index  " + "  ".join(f"{n:>13s}" for n in names) + "  anomaly  name"]
        flagged = self.flagged
        for i, t in enumerate(self.targets):
            mark = "*" if t in flagged else " "
            cols = "  ".join(f"{self.measures[n][i]:13.3f}" for n in names)
            name = self.class_names[t] if self.class_names else str(t)
            lines.append(f"{mark} {t:5d}  {cols}  {self.anomaly[i]:7.2f}  {name}")
        return "\n".join(lines)


def concentration(maps: np.ndarray, window: int) -> np.ndarray:
    """Share of each map's mass in its densest ``window``×``window`` square (box filter, zero padding)."""
    out = []
    for m in np.asarray(maps, np.float64):
        box = cv2.boxFilter(m, -1, (window, window), normalize=False, borderType=cv2.BORDER_CONSTANT)
        out.append(box.max() / max(m.sum(), 1e-12))
    return np.asarray(out)


def anomaly_scores(c: np.ndarray) -> np.ndarray:
    """Robust z-scores ``(c − median) / (1.4826 · MAD)`` (MAD floored at 1e-3)."""
    med = np.median(c)
    mad = max(float(np.median(np.abs(c - med))), 1e-3)
    return (c - med) / (1.4826 * mad)


def default_samples(model: Any, image: Any = None, shape: Sequence[int] | None = None) -> str:
    """``'mnist'`` (generic MNIST images of every class) for a 1×28×28 model, else ``'uniform'`` noise."""
    from peephole.gradients.differentiable import as_differentiable
    from peephole_lab.systems.model_shape import model_shape

    shp = model_shape(as_differentiable(model, "a backdoor scan"), image, shape)
    return "mnist" if tuple(shp) == (1, 28, 28) else "uniform"


def score_scan(
    e: Explanation, window: int | None = None, threshold: float = THRESHOLD, min_fidelity: float = 0.5
) -> BackdoorReport:
    """The backdoor report of an input-agnostic scan ``e`` (maps and fidelity of every class)."""
    if len(e.targets) < 3:
        raise InputError(f"a backdoor scan compares classes with each other: scan at least 3, got {len(e.targets)}")
    h, w = e.maps.shape[1:]
    win = window if window is not None else max(2, round(WINDOW * min(h, w)))
    if not 1 <= win <= min(h, w):
        raise InputError(f"window must be in 1..{min(h, w)}, got {win}")
    c = concentration(e.maps, win)
    fid = np.asarray(e.extras["fidelity"])
    measures = {"concentration": c, "fidelity": fid}
    return BackdoorReport(
        "input-agnostic",
        list(e.targets),
        anomaly_scores(c),
        fid >= min_fidelity,
        threshold,
        measures,
        e,
        seconds=float(e.timings.get("total", 0.0)),
        class_names=e.class_names,
    )


def detect_backdoor(
    model: Any,
    image: Any = None,
    classes: Sequence[int] | None = None,
    window: int | None = None,
    threshold: float = THRESHOLD,
    min_fidelity: float = 0.5,
    distribution: str | np.ndarray | None = None,
    n_iter: int = N_ITER,
    **options: Any,
) -> BackdoorReport:
    """Scan ``classes`` (default: all) of a torch classifier for a trigger; ``options`` go to ``peephole.explain``
    with ``method='input-agnostic'`` (``image`` only gives the input shape). ``distribution=None`` picks
    :func:`default_samples`; noise samples warn how unreliable they measured."""
    from peephole.api import explain

    t0 = perf_counter()
    if distribution is None:
        distribution = default_samples(model, image, options.get("shape"))
    if isinstance(distribution, str) and distribution in ("uniform", "gaussian"):
        warnings.warn(
            f"backdoor scan on {distribution} noise: on the held-out half of the trojan zoo this measured "
            f"{NOISE_RATES} (docs/systems.md); pass generic images of every class as distribution=",
            UserWarning,
            stacklevel=2,
        )
    e = explain(model, image, method="input-agnostic", targets=classes, distribution=distribution, n_iter=n_iter, **options)
    report = score_scan(e, window, threshold, min_fidelity)
    report.seconds = perf_counter() - t0
    return report


#: the scans :func:`scan_backdoor` runs (``peephole backdoor --detector``); the first is the default
SCANS = ("tabor-natural", "tabor-gap", "tabor-size", "tabor-calibrated", "input-agnostic", "neural-cleanse", "tabor", "combined")
DEFAULT_SCAN = SCANS[0]


def scan_backdoor(
    model: Any, detector: str = DEFAULT_SCAN, threshold: float | None = None, epochs: int | None = None, **options: Any
) -> BackdoorReport:
    """The report of one of :data:`SCANS` on ``model`` with its defaults. The default, ``'tabor-natural'``, is
    :func:`~peephole_lab.systems.tabor.tabor` with classes flagged by the size of their restored trigger mask and its
    gap to every other class's, classes whose trigger also fools clean reference models set aside
    (:func:`~peephole_lab.systems.trigger_transfer.natural_rule`, checked on a seventh and an eighth trojan zoo, docs/systems.md);
    ``'tabor-gap'`` the same without the references (the previous default,
    :func:`~peephole_lab.systems.tabor.gap_rule`); ``'tabor-size'`` by the size alone
    (:func:`~peephole_lab.systems.tabor.size_rule`); ``'tabor-calibrated'`` flags TABOR's MAD index above
    :data:`~peephole_lab.systems.tabor.CALIBRATED_THRESHOLD` (an earlier default), ``'tabor'`` the same index at
    the paper's threshold 2. The others: :func:`detect_backdoor` (input-agnostic),
    :func:`~peephole_lab.systems.neural_cleanse.neural_cleanse` and
    :func:`~peephole_lab.systems.backdoor_combined.combined_scan`. ``threshold`` and ``epochs`` (Neural Cleanse /
    TABOR epochs) override the defaults when given; ``options`` go to the scan."""
    from peephole_lab.systems.backdoor_combined import combined_scan
    from peephole_lab.systems.neural_cleanse import neural_cleanse
    from peephole_lab.systems.tabor import CALIBRATED_THRESHOLD, gap_rule, size_rule, tabor
    from peephole_lab.systems.trigger_transfer import natural_rule

    if detector not in SCANS:
        raise InputError(f"unknown backdoor scan {detector!r}; use one of {SCANS}")
    th = {} if threshold is None else {"threshold": threshold}
    cleanse = {} if epochs is None else {"epochs": epochs}
    if detector == "input-agnostic":
        return detect_backdoor(model, **th, **options)
    if detector == "combined":
        return combined_scan(model, **th, cleanse=cleanse, **options)
    rules = {
        "tabor-natural": natural_rule,
        "tabor-gap": gap_rule,
        "tabor-size": size_rule,
    }  # TABOR's search, re-scored by a decision rule
    if detector in rules:
        return rules[detector](tabor(model, **cleanse, **options), threshold)
    if detector == "tabor-calibrated":
        report = tabor(model, **{"threshold": CALIBRATED_THRESHOLD, **th}, **cleanse, **options)
        report.method = detector
        return report
    return (neural_cleanse if detector == "neural-cleanse" else tabor)(model, **th, **cleanse, **options)
