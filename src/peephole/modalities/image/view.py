"""Pictures of image explanations: heat-map overlays, a figure per explanation, and image grids."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
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


def grid(
    rows: Sequence[Sequence[np.ndarray]],
    titles: Sequence[Sequence[str]],
    path: str | Path,
    row_labels: Sequence[str] = (),
    cmap: str = "gray",
    vrange: tuple[float, float] | None = None,
) -> Path:
    """Save a grid of images (H×W maps in ``cmap``, each scaled to its own range unless ``vrange``; H×W×3 as RGB)."""
    import matplotlib

    matplotlib.use("Agg", force=False)
    import matplotlib.pyplot as plt

    n_rows, n_cols = len(rows), max(len(r) for r in rows)
    fig, axes = plt.subplots(n_rows, n_cols, figsize=(1.5 * n_cols, 1.6 * n_rows), squeeze=False)
    for i, row in enumerate(rows):
        for j in range(n_cols):
            ax = axes[i, j]
            ax.axis("off")
            if j < len(row):
                img = row[j]
                lo, hi = vrange if vrange is not None else (float(img.min()), float(img.max()))
                ax.imshow(
                    img,
                    cmap=None if img.ndim == 3 else cmap,
                    vmin=None if img.ndim == 3 else lo,
                    vmax=None if img.ndim == 3 else hi,
                )
                ax.set_title(titles[i][j], fontsize=7)
        if i < len(row_labels):
            axes[i, 0].text(
                -0.15, 0.5, row_labels[i], transform=axes[i, 0].transAxes, rotation=90, va="center", ha="right", fontsize=8
            )
    fig.tight_layout()
    out = Path(path)
    out.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(out, dpi=110)
    plt.close(fig)
    return out


class ImageView:
    """Views of an image explanation: ``overlay``, ``figure``, and ``write`` (an overlay PNG per target)."""

    def __init__(self, explanation: Any) -> None:
        self._e = explanation

    def overlay(self, target: int | None = None, alpha: float = 0.5, cmap: str = "jet") -> np.ndarray:
        """H×W×3 uint8 overlay of the map of ``target`` (default: the first target) on the image."""
        return overlay(self._e.input, self._e.map_of(target), alpha, cmap)

    def figure(self, alpha: float = 0.5, cmap: str = "jet") -> Any:
        """A matplotlib figure with the image and one overlay per target."""
        e = self._e
        titles = [f"{e.name(t)} ({e.probabilities[t]:.2f})" for t in e.targets]
        return figure(e.input, list(e.maps), titles, alpha, cmap)

    def write(self, target: int, base: Path) -> Path:
        """The overlay of ``target`` as ``base.png``."""
        from PIL import Image

        Image.fromarray(self.overlay(target)).save(base.with_suffix(".png"))
        return base.with_suffix(".png")
