"""The check every metric makes of a map it is given: an array of real, finite numbers."""

from __future__ import annotations

from typing import Any

import numpy as np

from peephole.core.query import real_numbers
from peephole.errors import InputError


def checked_map(saliency: Any) -> np.ndarray:
    """``saliency`` as a float64 array; an :class:`InputError` for strings, complex numbers, dates, NaN or inf."""
    try:
        s = real_numbers(saliency)
    except (TypeError, ValueError) as exc:
        raise InputError(f"a saliency map must be an array of real numbers: {exc}") from exc
    if not np.isfinite(s).all():
        raise InputError("the saliency map contains NaN or inf")
    return s
