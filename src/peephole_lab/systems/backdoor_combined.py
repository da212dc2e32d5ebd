"""The combined backdoor scan: the input-agnostic scan (:func:`~peephole_lab.systems.backdoor.detect_backdoor`) and
Neural Cleanse (:func:`~peephole_lab.systems.neural_cleanse.neural_cleanse`) on the same model, every class's two
anomalies and their ranks (:func:`~peephole_lab.systems.backdoor_calibration.class_features`) combined by the
logistic regression of :class:`~peephole_lab.systems.backdoor_calibration.LogisticCombiner` with the weights
below, fitted on the wide trojan zoo's models that both detectors scanned (docs/systems.md, "A wider zoo": how
many, and the leave-one-family-out rates of the same procedure on families it did not see). A class is flagged
when its log-odds exceed ``threshold``. It is **not** the default scan (``peephole backdoor --detector combined``):
on leave-one-family-out it did not beat the input-agnostic scan, and calibrated TABOR beat both."""

from __future__ import annotations

from collections.abc import Sequence
from time import perf_counter
from typing import Any

import numpy as np

from peephole_lab.systems.backdoor import BackdoorReport

#: (weights over ``FEATURES``: input-agnostic anomaly, Neural Cleanse anomaly index, their ranks), intercept: fitted on
#: the 22 models of the wide zoo's subset (``python experiments/backdoor_wide.py report``, "combined scan fitted on all")
WEIGHTS: tuple[tuple[float, ...], float] = ((0.0843, 0.4500, -0.0237, -1.9454), 1.4950)
#: log-odds above which a class is flagged: the lowest with at most 1/6 false alarms on those 22 models
THRESHOLD = 2.321


def combined_scan(
    model: Any,
    images: Any = None,
    classes: Sequence[int] | None = None,
    threshold: float = THRESHOLD,
    seed: int = 0,
    weights: tuple[Sequence[float], float] = WEIGHTS,
    cleanse: dict[str, Any] | None = None,
    **options: Any,
) -> BackdoorReport:
    """Scan ``classes`` (default: all) of a torch classifier with both detectors and combine them (module doc).
    ``images`` and ``cleanse`` (e.g. ``{"epochs": 5}``): Neural Cleanse's clean images and options; ``options`` go
    to the input-agnostic scan (``shape`` to both).
    The report's measures hold both detectors' anomalies, its explanation the input-agnostic maps and its
    extras Neural Cleanse's masks and patterns."""
    from peephole.errors import InputError
    from peephole_lab.systems.backdoor import detect_backdoor
    from peephole_lab.systems.backdoor_calibration import FEATURES, class_features
    from peephole_lab.systems.neural_cleanse import neural_cleanse

    w, b = np.asarray(weights[0], np.float64), float(weights[1])
    if w.shape != (len(FEATURES),):
        raise InputError(f"weights must be ({len(FEATURES)} coefficients over {FEATURES}, intercept), got {weights!r}")
    t0 = perf_counter()
    ia = detect_backdoor(model, classes=classes, seed=seed, **options)
    nc = neural_cleanse(model, images, classes, seed=seed, shape=options.get("shape"), **(cleanse or {}))
    feats = class_features(ia.anomaly, nc.anomaly)
    logit = np.column_stack([feats[f] for f in FEATURES]) @ w + b
    measures = {
        "input_agnostic": ia.anomaly,
        "fidelity": ia.measures["fidelity"],
        "neural_cleanse": nc.anomaly,
        "mask_l1": nc.measures["mask_l1"],
    }
    return BackdoorReport(
        "combined",
        ia.targets,
        logit,
        np.ones(len(ia.targets), bool),
        threshold,
        measures,
        ia.explanation,
        nc.extras,
        perf_counter() - t0,
        ia.class_names,
    )
