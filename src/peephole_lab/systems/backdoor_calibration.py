"""Calibrated decision rules for backdoor scans, fitted on some zoo families and applied to unseen ones
(:func:`peephole_lab.systems.backdoor_eval.leave_one_family_out` takes either as ``calibrate``).

* :class:`CleanReference` — a score means little without the scores clean models of the same kind get: every
  anomaly is standardised against the clean reference models of the same architecture family,
  ``z = (a − median) / (1.4826 · MAD)`` of their model scores (MAD floored at ``min_scale``); an architecture
  the reference lacks uses the pooled clean models.
* :class:`LogisticCombiner` — a logistic regression (scikit-learn, L2, balanced classes) over per-class
  features of two or three detectors on the same model (:func:`merge`: each detector's anomaly, e.g.
  input-agnostic anomaly and Neural Cleanse anomaly index, and each class's rank in each, 0 = most
  suspicious), trained with the backdoor's target class of each backdoored model as positive and every class
  of clean models as negative; a class's new anomaly is the regression's log-odds, so ``threshold = 0`` is
  P = 0.5.
* ``CleanReference(by="class")`` — the same, per class: each class's anomaly is standardised against the
  anomalies *of the same class* in the seen clean models (on MNIST some digits are easy targets in every
  model, so a clean model's largest anomaly tends to sit on the same few classes).

Their leave-one-family-out rates on the wide zoo are in docs/systems.md ("A wider zoo"); the tests check the
arithmetic.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np

from peephole.errors import InputError
from peephole_lab.systems.backdoor_eval import ModelResult


def _robust(scores: Sequence[float], min_scale: float) -> tuple[float, float]:
    a = np.asarray([s for s in scores if np.isfinite(s)], np.float64)
    if not len(a):
        raise InputError("no clean model with a finite score to calibrate against")
    med = float(np.median(a))
    return med, max(1.4826 * float(np.median(np.abs(a - med))), min_scale)


@dataclass
class CleanReference:
    """Robust location and scale of clean models' anomalies per key (module doc): ``by`` names a model attribute
    (``"arch"``: each model's score against the clean models of its architecture) or is ``"class"`` (each class's
    anomaly against the same class's anomalies in clean models)."""

    by: str = "arch"
    min_scale: float = 0.5
    stats: dict[Any, tuple[float, float]] = field(default_factory=dict)
    pooled: tuple[float, float] = (0.0, 1.0)

    def _key(self, r: ModelResult, target: int) -> Any:
        return target if self.by == "class" else str(r.attributes.get(self.by))

    def _samples(self, r: ModelResult) -> list[tuple[Any, float]]:
        """The (key, value) pairs a clean model adds: its eligible classes' anomalies, or its one model score (a
        model with no eligible class, score −inf, adds nothing)."""
        if self.by == "class":
            return [(t, a) for t, a, ok in zip(r.targets, r.anomaly, r.eligible) if ok]
        return [(self._key(r, -1), r.score())] if np.isfinite(r.score()) else []

    def fit(self, results: Sequence[ModelResult]) -> CleanReference:
        samples = [kv for r in results if not r.trojan and not r.error for kv in self._samples(r)]
        self.pooled = _robust([v for _, v in samples], self.min_scale)
        groups: dict[Any, list[float]] = {}
        for k, v in samples:
            groups.setdefault(k, []).append(v)
        self.stats = {k: _robust(v, self.min_scale) for k, v in groups.items() if len(v) >= 2}
        return self

    def __call__(self, results: Sequence[ModelResult]) -> list[ModelResult]:
        """``results`` with every class's anomaly standardised by its key's clean location and scale (the pooled
        ones for a key the reference lacks)."""
        out = []
        for r in results:
            loc_scale = [self.stats.get(self._key(r, t), self.pooled) for t in r.targets]
            out.append(replace(r, anomaly=[(a - m) / s for a, (m, s) in zip(r.anomaly, loc_scale)]))
        return out


def fit_reference(results: Sequence[ModelResult]) -> CleanReference:
    """A per-architecture :class:`CleanReference` fitted on ``results`` (a leave-one-family-out ``calibrate``)."""
    return CleanReference().fit(results)


def fit_class_reference(results: Sequence[ModelResult]) -> CleanReference:
    """A per-class :class:`CleanReference` fitted on ``results`` (a leave-one-family-out ``calibrate``)."""
    return CleanReference(by="class").fit(results)


def _ranks(a: Sequence[float]) -> np.ndarray:
    order = np.argsort(-np.asarray(a, np.float64), kind="stable")
    ranks = np.empty(len(order))
    ranks[order] = np.arange(len(order))
    return ranks


#: the detectors' names in the feature names of :func:`class_features` (first = the first detector given)
ORDINALS = ("first", "second", "third")


def feature_names(n: int) -> tuple[str, ...]:
    """The features of ``n`` detectors: their anomalies, then their ranks (``('first', 'second', 'first_rank',
    'second_rank')`` for two: the order of the combined scan's weights)."""
    if not 2 <= n <= len(ORDINALS):
        raise InputError(f"the combiner takes 2 to {len(ORDINALS)} detectors, got {n}")
    return (*ORDINALS[:n], *(f"{o}_rank" for o in ORDINALS[:n]))


def class_features(*anomalies: Sequence[float]) -> dict[str, list[float]]:
    """The per-class features of :class:`LogisticCombiner` (:func:`feature_names`) from 2–3 detectors' anomalies."""
    names = feature_names(len(anomalies))
    cols = [list(a) for a in anomalies] + [list(_ranks(a)) for a in anomalies]
    return dict(zip(names, cols))


def merge(*detectors: Sequence[ModelResult]) -> list[ModelResult]:
    """One result per model scanned by every detector (matched by name; errors and unmatched models dropped),
    its ``measures`` the per-class features of :class:`LogisticCombiner` and its anomaly the first detector's."""
    first, rest = detectors[0], [{r.name: r for r in d if not r.error} for d in detectors[1:]]
    out = []
    for a in first:
        others = [d[a.name] for d in rest if a.name in d]
        if a.error or len(others) < len(rest):
            continue
        for b in others:
            if a.targets != b.targets:
                raise InputError(f"{a.name}: the scans cover different classes ({a.targets} vs {b.targets})")
        feats = class_features(a.anomaly, *(b.anomaly for b in others))
        seconds = a.seconds + sum(b.seconds for b in others)
        out.append(replace(a, eligible=[True] * len(a.targets), measures=feats, seconds=seconds))
    return out


FEATURES = feature_names(2)


def _features(r: ModelResult) -> np.ndarray:
    n = sum(o in r.measures for o in ORDINALS)
    try:
        return np.column_stack([r.measures[f] for f in feature_names(n)]).astype(np.float64)
    except (KeyError, InputError) as exc:
        raise InputError(f"{r.name}: not a merged result (use backdoor_calibration.merge)") from exc


@dataclass
class LogisticCombiner:
    """Logistic regression over the per-class features of :func:`merge` (module doc)."""

    C: float = 1.0
    model: object = None

    def fit(self, results: Sequence[ModelResult]) -> LogisticCombiner:
        from sklearn.linear_model import LogisticRegression

        x = np.concatenate([_features(r) for r in results])
        y = np.concatenate([[r.trojan and t == r.target for t in r.targets] for r in results]).astype(int)
        if y.min() == y.max():
            raise InputError("the combiner needs backdoored and clean models to learn from")
        self.model = LogisticRegression(C=self.C, class_weight="balanced", max_iter=1000).fit(x, y)
        return self

    def weights(self) -> tuple[list[float], float]:
        """The fitted coefficients (in :func:`feature_names` order) and intercept."""
        if self.model is None:
            raise InputError("fit the combiner first")
        return [float(v) for v in self.model.coef_[0]], float(self.model.intercept_[0])  # type: ignore[attr-defined]

    def __call__(self, results: Sequence[ModelResult]) -> list[ModelResult]:
        """``results`` with every class's anomaly replaced by the regression's log-odds."""
        if self.model is None:
            raise InputError("fit the combiner first")
        return [replace(r, anomaly=[float(v) for v in self.model.decision_function(_features(r))]) for r in results]  # type: ignore[attr-defined]


def fit_combiner(results: Sequence[ModelResult]) -> LogisticCombiner:
    """A :class:`LogisticCombiner` fitted on merged ``results`` (the ``calibrate`` of a leave-one-family-out run)."""
    return LogisticCombiner().fit(results)
