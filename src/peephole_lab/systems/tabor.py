"""TABOR (Guo, Wang, Xing, Du & Song, "TABOR: a highly accurate approach to inspecting and restoring trojan
backdoors in AI systems", arXiv:1908.01763, 2019): Neural Cleanse's trigger reverse-engineering with
regularisers against the false triggers it tends to find, and a trigger-quality score for the outlier test.

Per class t the mask ``M`` and pattern ``Δ`` of :func:`~peephole_lab.systems.neural_cleanse.reverse_trigger`
(same optimiser and λ schedule on ``‖M‖₁``) minimise in addition (Sec. 3.2)

* R1, overly large triggers: ``λ1·(‖M‖₁ + ‖M‖₂²) + λ2·(‖Δ'‖₁ + ‖Δ'‖₂²)`` with ``Δ' = (1 − M)·Δ``;
* R2, scattered triggers: ``λ3·s(M) + λ4·s(Δ')``, ``s`` the sum of squared differences of neighbouring pixels;
* R3, blocking triggers: ``λ5·CE(f((1 − M)·x), y)``, y the model's label of the clean image x;
* R4, overlaying triggers: ``λ6·CE(f(M·Δ), t)`` — the trigger alone must lead to t.

The weights ``(λ1 … λ6) = (1e-6, 1e-5, 1e-7, 1e-8, 0, 1e-2)`` are those of TrojanZoo's TABOR (Pang et al.,
EuroS&P 2022), the reference implementation we follow for the terms (R2 on ``Δ'`` as there).

Detection (Sec. 3.3): the restored trigger ``F = M·Δ`` of each class gets the score
``A = log(‖F‖₁ / d²) + log(s(F) / (d·(d − 1))) − log(acc_att) − log(acc_crop)`` — small, smooth triggers that
send clean images to t (``acc_att``) and whose removal leaves the clean label (``acc_crop``: clean images with
``M`` cut out keep the model's label) score low; classes with anomaly index ``(median(A) − A_t) / (1.4826 ·
MAD(A))`` above ``threshold`` (2, as Neural Cleanse) are flagged. For H×W images d² is H·W and d·(d − 1) the
number of neighbouring pixel pairs (constants cancel in the index); accuracies are floored at 1/n so the logs
stay finite.

**Gap rule** (detector ``'tabor-gap'``, :func:`gap_rule`; the default scan, ``'tabor-natural'``, is this rule with
natural features of a class set aside: :mod:`peephole_lab.systems.trigger_transfer`): the size rule's anomaly below
plus how far the class's mask lies under every other class's, ``log(H·W / ‖M_c‖₁) + log(min_{c'≠c} ‖M_c'‖₁ / ‖M_c‖₁)``
above :data:`GAP_THRESHOLD` — on 28×28 images a class whose mask is a little over the size rule's 33.1 px but several
times smaller than any other's is flagged, one at 25–33 px with another class's mask about as small is not. Chosen
over the size rule by leave-one-family-out on five zoos pooled, by one model's false alarm
(experiments/gap_rule/PLAN.md; docs/systems.md, "A gap rule").

**Size rule** (detector ``'tabor-size'``, the previous default, :func:`size_rule`): the same search, but a class is
flagged when its restored mask is small in absolute terms, not relative to the other classes: anomaly ``log(H·W /
‖M‖₁)`` above :data:`SIZE_THRESHOLD`, i.e. ``‖M‖₁`` below e^3.5 ≈ 33.1 pixels of a 28×28 image (4.2 % of its area).
Chosen among nine statistics of TABOR's own per-class measures by leave-one-family-out on two zoos pooled, then
checked blind on a third (docs/systems.md, "A size rule"; ``python experiments/backdoor_wide.py search`` and
``blind``). It is measured on MNIST models only; on other image sizes the area fraction is an untested extrapolation.

**Calibrated rule** (detector ``'tabor-calibrated'``, the default before the size rule): classes flagged above
:data:`CALIBRATED_THRESHOLD` instead of 2 — the largest index any clean model of the wide trojan zoo reached.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import replace
from typing import Any

import numpy as np

from peephole_lab.systems.backdoor import BackdoorReport

WEIGHTS = (1e-6, 1e-5, 1e-7, 1e-8, 0.0, 1e-2)  #: (λ1 … λ6), TrojanZoo's defaults
#: the calibrated rule's threshold: the largest TABOR index of a clean model among the wide zoo's 22 models (3.091), rounded up
#: (``experiments/backdoor_wide.py report --common``: "fit on every model")
CALIBRATED_THRESHOLD = 3.1
#: the size rule's threshold on ``log(H·W / ‖M‖₁)``: ``−log ‖M‖₁ > −3.5`` on 28×28 images (‖M‖₁ < 33.1 px), frozen
#: before the blind zoo was read (experiments/blind_zoo2/PLAN.md): −3.597 (the smallest clean mask of the 42 seen models,
#: 36.5 px) rounded away from the clean models
SIZE_THRESHOLD = float(np.log(28 * 28) - 3.5)
#: the gap rule's threshold on :func:`gap_anomaly`: ``log(H·W) − 3.2`` (flag when ``‖M_c‖₁² / min_{c'≠c} ‖M_c'‖₁`` is
#: under e^3.2 ≈ 24.5 px of a 28×28 image), fitted on five zoos allowing one false alarm and frozen before the sixth
#: was trained (experiments/gap_rule/PLAN.md)
GAP_THRESHOLD = float(np.log(28 * 28) - 3.2)


def size_anomaly(mask_l1: Any, pixels: int) -> np.ndarray:
    """Each class's ``log(pixels / ‖M‖₁)``: how many times its restored mask fits in an image of ``pixels`` pixels
    (larger = a smaller trigger)."""
    return np.log(pixels / np.asarray(mask_l1, np.float64))


def margin_below_others(a: Any) -> np.ndarray:
    """Each entry's ``min_{c' ≠ c} a_c' − a_c``: how far it lies below every other entry (positive only for the
    smallest; at least two entries)."""
    a = np.asarray(a, np.float64)
    first, second = np.argsort(a, kind="stable")[:2]
    others = np.full(len(a), a[first])
    others[first] = a[second]
    return others - a


def gap_anomaly(mask_l1: Any, pixels: int) -> np.ndarray:
    """Each class's :func:`size_anomaly` plus ``log(min_{c' ≠ c} ‖M_c'‖₁ / ‖M_c‖₁)``: how small its restored mask is,
    and how far below every other class's (:func:`margin_below_others` of the log sizes)."""
    return size_anomaly(mask_l1, pixels) + margin_below_others(np.log(np.asarray(mask_l1, np.float64)))


def size_rule(report: BackdoorReport, threshold: float | None = None) -> BackdoorReport:
    """A TABOR report re-scored by the size rule (module doc): anomaly :func:`size_anomaly` of each class's mask,
    flagged above ``threshold`` (default :data:`SIZE_THRESHOLD`); the MAD index of TABOR's score stays as the
    measure ``tabor_index``."""
    return _rescored(report, "tabor-size", size_anomaly, SIZE_THRESHOLD if threshold is None else threshold)


def gap_rule(report: BackdoorReport, threshold: float | None = None) -> BackdoorReport:
    """A TABOR report re-scored by the gap rule (module doc): anomaly :func:`gap_anomaly`, flagged above
    ``threshold`` (default :data:`GAP_THRESHOLD`); TABOR's MAD index stays as the measure ``tabor_index``."""
    return _rescored(report, "tabor-gap", gap_anomaly, GAP_THRESHOLD if threshold is None else threshold)


def _rescored(
    report: BackdoorReport, method: str, statistic: Callable[[Any, int], np.ndarray], threshold: float
) -> BackdoorReport:
    pixels = int(np.prod(report.extras["masks"].shape[-2:]))
    return replace(
        report,
        method=method,
        anomaly=statistic(report.measures["mask_l1"], pixels),
        threshold=threshold,
        measures={**report.measures, "tabor_index": report.anomaly},
    )


def smoothness(a: Any) -> Any:
    """``s(a)``: the sum of squared differences of vertically and horizontally neighbouring pixels (last 2 axes)."""
    return ((a[..., 1:, :] - a[..., :-1, :]) ** 2).sum() + ((a[..., :, 1:] - a[..., :, :-1]) ** 2).sum()


def regulariser(weights: Sequence[float] = WEIGHTS) -> Callable[[Any, int], Callable[[Any, Any, Any], Any]]:
    """``(dm, t) -> terms(m, p, xb)``: TABOR's R1–R4 for class t (module doc), for ``neural_cleanse(regulariser=)``."""
    import torch
    import torch.nn.functional as F

    l1, l2, l3, l4, l5, l6 = (float(w) for w in weights)

    def for_class(dm: Any, t: int) -> Callable[[Any, Any, Any], Any]:
        def terms(m: Any, p: Any, xb: Any) -> Any:
            rest = (1 - m) * p
            loss = l1 * (m.abs().sum() + m.square().sum()) + l2 * (rest.abs().sum() + rest.square().sum())
            loss = loss + l3 * smoothness(m) + l4 * smoothness(rest)
            if l5:
                with torch.no_grad():
                    y = dm.logits(xb).argmax(1)
                loss = loss + l5 * F.cross_entropy(dm.logits((1 - m) * xb), y)
            if l6:
                loss = loss + l6 * F.cross_entropy(dm.logits((m * p)[None]), torch.tensor([t]))
            return loss

        return terms

    return for_class


def trigger_scores(dm: Any, x: Any, targets: Sequence[int], masks: np.ndarray, patterns: np.ndarray) -> dict[str, np.ndarray]:
    """TABOR's score ``A`` of every class's restored trigger and its parts (module doc)."""
    import torch

    with torch.no_grad():
        labels = dm.logits(x).argmax(1)
        n, (h, w) = len(x), masks.shape[1:]
        att, crop, score = [], [], []
        for t, m, p in zip(targets, masks, patterns):
            mt, pt = torch.from_numpy(m), torch.from_numpy(p)
            trig = mt * pt
            att.append(float((dm.logits((1 - mt) * x + trig).argmax(1) == t).float().mean()))
            crop.append(float((dm.logits((1 - mt) * x).argmax(1) == labels).float().mean()))
            size = float(trig.abs().sum()) / (h * w)
            smooth = float(smoothness(trig)) / (h * (w - 1) + (h - 1) * w)
            score.append(
                np.log(max(size, 1e-12)) + np.log(max(smooth, 1e-12)) - np.log(max(att[-1], 1 / n)) - np.log(max(crop[-1], 1 / n))
            )
    return {"tabor_score": np.asarray(score), "trigger_success": np.asarray(att), "crop_accuracy": np.asarray(crop)}


def tabor(
    model: Any,
    images: Any = None,
    classes: Sequence[int] | None = None,
    threshold: float = 2.0,
    weights: Sequence[float] = WEIGHTS,
    **options: Any,
) -> BackdoorReport:
    """TABOR scan of a torch classifier (module doc). ``images``, ``classes`` and ``options`` (epochs, steps,
    batch size, λ schedule, seed, shape, …) are :func:`~peephole_lab.systems.neural_cleanse.neural_cleanse`'s,
    with its defaults; the report's anomaly is the index of the TABOR scores, its measures add them."""
    from time import perf_counter

    import torch

    from peephole.errors import InputError
    from peephole.gradients.differentiable import as_differentiable
    from peephole_lab.systems.neural_cleanse import mad_anomaly, neural_cleanse, scan_inputs

    if len(weights) != 6 or any(w < 0 for w in weights):
        raise InputError(f"TABOR takes 6 non-negative weights (λ1 … λ6), got {tuple(weights)}")
    t0 = perf_counter()
    dm = as_differentiable(model, "TABOR", options.get("output", "logits"))
    clean, shape = scan_inputs(dm, images, options.get("shape"))  # read, sized and checked once, for both steps
    r = neural_cleanse(model, clean, classes, threshold, regulariser=regulariser(weights), **{**options, "shape": shape})
    x = torch.from_numpy(clean)
    parts = trigger_scores(dm, x, r.targets, r.extras["masks"], r.extras["patterns"])
    r.method, r.anomaly, r.seconds = "tabor", mad_anomaly(parts["tabor_score"]), perf_counter() - t0
    r.measures = {"mask_l1": r.measures["mask_l1"], **parts}
    return r
