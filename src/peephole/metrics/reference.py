"""Reference maps of PAMI's Table 4: a random map and a centred Gaussian (the "centre bias" baseline)."""

from __future__ import annotations

import numpy as np


def random_map(shape: tuple[int, int], seed: int = 0) -> np.ndarray:
    """Uniform noise, seeded: the score any map must beat."""
    return np.random.default_rng(seed).random(shape).astype(np.float32)


def centre_gaussian_map(shape: tuple[int, int], sigma: float = 0.25) -> np.ndarray:
    """exp(-d²/2σ²) around the image centre, σ as a fraction of each side (0.25: a quarter)."""
    h, w = shape
    yy = (np.arange(h) - (h - 1) / 2) / (sigma * h)
    xx = (np.arange(w) - (w - 1) / 2) / (sigma * w)
    return np.exp(-0.5 * (yy[:, None] ** 2 + xx[None, :] ** 2)).astype(np.float32)
