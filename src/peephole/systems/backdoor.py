"""Backdoor (trojan) detection with input-agnostic class saliency (Akhtar & Jalwana, AAAI 2023, Sec. on
compromised models): a trojaned class's map concentrates on the trigger, a clean class's map spreads over
the shape of the class.

For every class the map ``Σ_c |ρ_k|`` and the fidelity of ρ_k are computed (method ``'input-agnostic'``). Design
choices (the paper shows the signatures visually and gives no score):

* **Concentration** ``c_k``: the share of the map's mass inside its densest ``window``×``window`` square
  (default 15% of the shorter side; BadNets triggers are small compact patches).
* **Anomaly score** ``a_k = (c_k − median(c)) / (1.4826 · MAD(c))``, the robust z-score Neural Cleanse
  (Wang et al., S&P 2019) uses for its anomaly index; MAD is floored at 1e-3 so identical classes do not divide by 0.
* **Flag** the classes with ``a_k > threshold`` (default 5) whose fidelity is at least ``min_fidelity`` (default 0.5):
  a trigger is a small perturbation that drives most inputs to its class.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import cv2
import numpy as np

from peephole.errors import InputError
from peephole.explanation import Explanation


@dataclass
class BackdoorReport:
    """Per-class scores of a backdoor scan; ``flagged`` lists the suspected target classes."""

    explanation: Explanation  #: the map, ρ and fidelity (``extras``) of every scanned class
    concentration: np.ndarray  #: (n_classes,) c_k
    anomaly: np.ndarray  #: (n_classes,) a_k
    fidelity: np.ndarray  #: (n_classes,)
    flagged: list[int]
    window: int
    threshold: float

    def table(self) -> str:
        """A plain-text table, one class a line, flagged classes marked with ``*``."""
        e = self.explanation
        lines = ["  index  concentration  anomaly  fidelity  name"]
        for i, t in enumerate(e.targets):
            mark = "*" if t in self.flagged else " "
            c, a, f = self.concentration[i], self.anomaly[i], self.fidelity[i]
            lines.append(f"{mark} {t:5d}  {c:13.3f}  {a:7.2f}  {f:8.2f}  {e.name(t)}")
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


def detect_backdoor(
    model: Any,
    image: Any = None,
    classes: Sequence[int] | None = None,
    window: int | None = None,
    threshold: float = 5.0,
    min_fidelity: float = 0.5,
    **options: Any,
) -> BackdoorReport:
    """Scan ``classes`` (default: all) of a torch classifier for a trigger; ``options`` go to ``peephole.explain``
    with ``method='input-agnostic'`` (``image`` only gives the input shape)."""
    from peephole.api import explain

    e = explain(model, image, method="input-agnostic", targets=classes, **options)
    if len(e.targets) < 3:
        raise InputError(f"a backdoor scan compares classes with each other: scan at least 3, got {len(e.targets)}")
    h, w = e.maps.shape[1:]
    win = window if window is not None else max(2, round(0.15 * min(h, w)))
    if not 1 <= win <= min(h, w):
        raise InputError(f"window must be in 1..{min(h, w)}, got {win}")
    c = concentration(e.maps, win)
    a = anomaly_scores(c)
    fid = np.asarray(e.extras["fidelity"])
    flagged = [t for t, s, f in zip(e.targets, a, fid) if s > threshold and f >= min_fidelity]
    return BackdoorReport(e, c, a, fid, flagged, win, threshold)
