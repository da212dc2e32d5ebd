"""Scores of a map against a known ground-truth feature mask (synthetic data whose class-defining pixels are known,
as in XAI-TRIS, Clark et al. 2024): relevance mass accuracy (Arras et al., "CLEVR-XAI", Inf. Fusion 2022, eq. 1)
and the ROC AUC of the map as a detector of the feature pixels."""

from __future__ import annotations

import numpy as np

from peephole.errors import InputError
from peephole.metrics.maps import checked_map


def _checked(saliency: np.ndarray, mask: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    s, m = checked_map(saliency), np.asarray(mask, bool)
    if s.shape != m.shape:
        raise InputError(f"a {s.shape} map cannot be scored against a {m.shape} feature mask")
    if not m.any() or m.all():
        raise InputError("the feature mask must mark some pixels and leave some unmarked")
    return s, m


def relevance_mass_accuracy(saliency: np.ndarray, mask: np.ndarray) -> float:
    """Share of the map's positive attribution inside the feature mask, ``Σ_{p∈GT} R⁺_p / Σ_p R⁺_p`` (NaN when the
    map has no positive value): the energy pointing game's formula, on a known feature mask instead of a box."""
    from peephole.metrics.pointing import energy_pointing

    return energy_pointing(*_checked(saliency, mask))


def mask_auc(saliency: np.ndarray, mask: np.ndarray) -> float:
    """ROC AUC of the map's values as scores for "this pixel is a feature pixel" (ties count one half; 0.5 for a
    constant or random map, 1.0 when every feature pixel outranks every other)."""
    from sklearn.metrics import roc_auc_score

    s, m = _checked(saliency, mask)
    return float(roc_auc_score(m.ravel(), s.ravel()))
