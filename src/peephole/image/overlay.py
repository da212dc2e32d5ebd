"""Pictures of image explanations: heat-map overlays and a figure per explanation."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np


def normalise(heat: np.ndarray) -> np.ndarray:
    """Min-max scale a map to [0, 1] for display (a constant map becomes 0)."""
    lo, hi = float(heat.min()), float(heat.max())
    return (heat - lo) / (hi - lo) if hi > lo else np.zeros_like(heat, dtype=np.float64)


def overlay(image: np.ndarray, heat: np.ndarray, alpha: float = 0.5, cmap: str = "jet") -> np.ndarray:
    """Blend a colour-mapped map over an H×W×3 [0, 1] image; returns H×W×3 uint8."""
    from matplotlib import colormaps

    if heat.shape != image.shape[:2]:
        raise ValueError(f"map of shape {heat.shape} does not match image of shape {image.shape[:2]}")
    colour = colormaps[cmap](normalise(heat))[..., :3]
    out = (1 - alpha) * image + alpha * colour
    return (np.clip(out, 0, 1) * 255).round().astype(np.uint8)


def figure(image: np.ndarray, maps: Sequence[np.ndarray], titles: Sequence[str], alpha: float = 0.5, cmap: str = "jet") -> Any:
    """A matplotlib figure: the image, then one overlay per map."""
    import matplotlib

    matplotlib.use("Agg", force=False)
    import matplotlib.pyplot as plt

    n = len(maps) + 1
    fig, axes = plt.subplots(1, n, figsize=(3.2 * n, 3.4), squeeze=False)
    axes[0, 0].imshow(image)
    axes[0, 0].set_title("input", fontsize=9)
    for ax, m, t in zip(axes[0, 1:], maps, titles):
        ax.imshow(overlay(image, m, alpha, cmap))
        ax.set_title(t, fontsize=9)
    for ax in axes[0]:
        ax.axis("off")
    fig.tight_layout()
    return fig
