"""Pictures of image explanations: heat-map overlays, a figure per explanation, and image grids."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from peephole.core.options import require_finite
from peephole.errors import InputError


def normalise(heat: np.ndarray) -> np.ndarray:
    """Min-max scale a map to [0, 1] for display (a constant map becomes 0)."""
    lo, hi = float(heat.min()), float(heat.max())
    return (heat - lo) / (hi - lo) if hi > lo else np.zeros_like(heat, dtype=np.float64)


def check_alpha(alpha: Any) -> None:
    """An :class:`InputError` unless ``alpha`` (the map's opacity) is a number in [0, 1] (above 1 the image is
    subtracted, below 0 the colours are)."""
    require_finite("alpha", alpha, 0)
    if alpha > 1:
        raise InputError(f"alpha must be in [0, 1], got {alpha!r}")


def overlay(
    image: np.ndarray,
    heat: np.ndarray,
    alpha: float = 0.5,
    cmap: str = "jet",
    vmin: float | None = None,
    vmax: float | None = None,
) -> np.ndarray:
    """Blend a colour-mapped map over an H×W×3 [0, 1] image; returns H×W×3 uint8.

    The map is scaled from ``vmin`` to ``vmax`` (default: its own min and max)."""
    from matplotlib import colormaps

    if heat.shape != image.shape[:2]:
        raise ValueError(f"map of shape {heat.shape} does not match image of shape {image.shape[:2]}")
    check_alpha(alpha)
    lo = float(heat.min()) if vmin is None else vmin
    hi = float(heat.max()) if vmax is None else vmax
    scaled = np.clip((heat - lo) / (hi - lo), 0, 1) if hi > lo else np.zeros(heat.shape)
    colour = colormaps[cmap](scaled)[..., :3]
    out = (1 - alpha) * image + alpha * colour
    return (np.clip(out, 0, 1) * 255).round().astype(np.uint8)


#: panels per row of :func:`figure` (the input and up to five maps)
COLUMNS = 6


def figure(
    image: np.ndarray,
    maps: Sequence[np.ndarray],
    titles: Sequence[str],
    alpha: float = 0.5,
    cmap: str = "jet",
    scale: str = "shared",
    fig: Any = None,
    boxes: Sequence[Sequence[float]] | None = None,
    regions: Sequence[np.ndarray] | None = None,
) -> Any:
    """A matplotlib figure: the image, then one overlay per map, with a colour bar; rows of at most
    :data:`COLUMNS` panels (a detection's many boxes, a large ``top_k``).

    ``scale='shared'`` (default) puts every map on one range, so a map of low values stays cool next to
    the top class's; ``'own'`` scales each map to its own range (one colour bar per panel). Drawn on
    matplotlib's object API (a new :class:`matplotlib.figure.Figure`, no pyplot state, the backend untouched)
    unless ``fig`` gives the figure to draw in (``show()`` passes a pyplot one).
    ``boxes``: one x0, y0, x1, y1 box per map (a detector's), drawn on its panel, all of them on the image;
    ``regions``: one boolean mask per map (a segmentation's class region, at any size), outlined on its panel."""
    from matplotlib.cm import ScalarMappable
    from matplotlib.colors import Normalize
    from matplotlib.figure import Figure

    if scale not in ("shared", "own"):
        raise ValueError(f"scale must be 'shared' or 'own', got {scale!r}")
    check_alpha(alpha)
    n = len(maps) + 1
    cols = min(n, COLUMNS)
    rows = -(-n // cols)
    fig = Figure() if fig is None else fig
    fig.set_size_inches(3.2 * cols + 0.6, 3.4 * rows)
    axes = fig.subplots(rows, cols, squeeze=False).ravel()
    axes[0].imshow(image)
    axes[0].set_title("input", fontsize=9)
    shared = (min(float(m.min()) for m in maps), max(float(m.max()) for m in maps)) if maps else (0.0, 1.0)
    for i, (ax, m, t) in enumerate(zip(axes[1:], maps, titles)):
        lo, hi = shared if scale == "shared" else (float(m.min()), float(m.max()))
        ax.imshow(overlay(image, m, alpha, cmap, lo, hi))
        ax.set_title(t, fontsize=9)
        if boxes is not None:
            draw_box(axes[0], boxes[i])
            draw_box(ax, boxes[i])
        if regions is not None:
            draw_region(ax, regions[i], image.shape[:2])
        if scale == "own":
            fig.colorbar(ScalarMappable(Normalize(lo, hi), cmap), ax=ax, fraction=0.046, pad=0.02)
    for ax in axes:
        ax.axis("off")
    if scale == "shared" and maps:
        bar = fig.colorbar(ScalarMappable(Normalize(*shared), cmap), ax=list(axes[1:n]), fraction=0.02, pad=0.02)
        bar.set_label("importance (shared scale)", fontsize=8)
    return fig


def draw_box(ax: Any, box: Sequence[float], colour: str = "white") -> None:
    """An x0, y0, x1, y1 pixel box outlined on ``ax`` (pixel edges: pixel ``c`` spans ``c - 0.5 .. c + 0.5``)."""
    from matplotlib.patches import Rectangle

    x0, y0, x1, y1 = (float(v) for v in box)
    ax.add_patch(Rectangle((x0 - 0.5, y0 - 0.5), x1 - x0, y1 - y0, fill=False, edgecolor=colour, linewidth=1.5))


def draw_region(ax: Any, region: np.ndarray, size: tuple[int, int], colour: str = "white") -> None:
    """The outline of a boolean ``region`` (h×w, any size: its pixel centres spread over the image's ``size``)."""
    h, w = region.shape
    if region.all() or not region.any():
        return  # no edge inside the picture
    ys, xs = ((np.arange(n) + 0.5) * big / n - 0.5 for n, big in ((h, size[0]), (w, size[1])))
    ax.contour(xs, ys, region.astype(np.float32), levels=[0.5], colors=colour, linewidths=1.2)


def region_of(e: Any, target: int) -> np.ndarray | None:
    """A segmentation's region for class ``target`` (h×w bool): where it was predicted, or the region given; an
    instance-segmentation detection's mask of box ``target``; None for a result of another task (or extras of
    another shape: a file written by other code shows no outline rather than failing)."""
    if e.task == "detection":
        masks = e.extras.get("masks")
        ok = masks is not None and masks.ndim == 3 and 0 <= target < len(masks)
        return np.asarray(masks[target], bool) if ok else None
    regions = e.extras.get("regions") if e.task == "segmentation" else None
    if regions is None or regions.ndim != 2:
        return None
    given = np.asarray(e.extras.get("region_given", 0)).ravel()
    return regions.astype(bool) if given.size and given[0] else regions == target


def grid(
    rows: Sequence[Sequence[np.ndarray]],
    titles: Sequence[Sequence[str]],
    path: str | Path,
    row_labels: Sequence[str] = (),
    cmap: str = "gray",
    vrange: tuple[float, float] | None = None,
) -> Path:
    """Save a grid of images (H×W maps in ``cmap``, each scaled to its own range unless ``vrange``; H×W×3 as RGB)."""
    from matplotlib.figure import Figure

    n_rows, n_cols = len(rows), max(len(r) for r in rows)
    fig = Figure(figsize=(1.5 * n_cols, 1.6 * n_rows))
    axes = fig.subplots(n_rows, n_cols, squeeze=False)
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
    return out


class ImageView:
    """Views of an image explanation: ``overlay``, ``figure``, ``show``, ``notebook`` and ``write`` (an overlay PNG per target).

    Every view puts the maps of all targets on one shared scale by default (``scale='own'`` scales each
    map to its own range), so a class the model gives p ≈ 0 does not look as important as the top class.
    """

    def __init__(self, explanation: Any) -> None:
        self._e = explanation

    def range(self, target: int | None = None, scale: str = "shared") -> tuple[float, float]:
        """The (vmin, vmax) the map of ``target`` is drawn with: over all targets' maps, or its own."""
        m = self._e.map_of(target)
        if scale == "own":
            return float(m.min()), float(m.max())
        if scale != "shared":
            raise ValueError(f"scale must be 'shared' or 'own', got {scale!r}")
        maps = self._e.maps
        return min(float(maps.min()), float(m.min())), max(float(maps.max()), float(m.max()))

    def overlay(self, target: int | None = None, alpha: float = 0.5, cmap: str = "jet", scale: str = "shared") -> np.ndarray:
        """H×W×3 uint8 overlay of the map of ``target`` (default: the first target) on the image."""
        return overlay(self._e.input, self._e.map_of(target), alpha, cmap, *self.range(target, scale))

    def figure(self, alpha: float = 0.5, cmap: str = "jet", scale: str = "shared", fig: Any = None, targets: Any = None) -> Any:
        """A :class:`matplotlib.figure.Figure` with the image, one overlay per target and a colour bar (no pyplot
        state, the backend untouched); ``fig``: a figure to draw in instead. ``targets``: which maps (a class, box or
        segment index, or a list of them); unset, the targets', the first
        :data:`~peephole.modalities.display.FIGURE_MAPS` of them, the rest counted in the title."""
        from peephole.modalities.display import shown

        e = self._e
        chosen, left = shown(e.targets, targets)
        titles = [f"{e.name(t)} ({e.probabilities[t]:.2f})" for t in chosen]
        maps = [e.map_of(t) for t in chosen]
        out = figure(e.input, maps, titles, alpha, cmap, scale, fig, self.boxes(chosen), self.regions(chosen))
        if left:
            n = len(chosen)
            out.suptitle(f"the first {n} of {n + left} targets' maps (figure(targets=[...]) draws others)", fontsize=10)
        return out

    def show(self, alpha: float = 0.5, cmap: str = "jet", scale: str = "shared") -> None:
        """Show :meth:`figure` with pyplot (a window in a script or REPL, inline in a notebook)."""
        import matplotlib.pyplot as plt

        self.figure(alpha, cmap, scale, fig=plt.figure())
        plt.show()

    def notebook(self) -> str:
        """The notebook's picture of the maps: :meth:`figure` as an inline PNG."""
        from peephole.modalities.display import img_tag, png

        return img_tag(png(self.figure()))

    def boxes(self, targets: Any = None) -> list[np.ndarray] | None:
        """The reference box of each target (unset: every target) of a detection (``extras['boxes']``); None for
        other tasks."""
        boxes = self._e.extras.get("boxes") if self._e.task == "detection" else None
        return None if boxes is None else [boxes[t] for t in (self._e.targets if targets is None else targets)]

    def regions(self, targets: Any = None) -> list[np.ndarray] | None:
        """The region of each target (unset: every target) of a segmentation or the mask of each instance
        (:func:`region_of`); None for other tasks."""
        regions = [region_of(self._e, t) for t in (self._e.targets if targets is None else targets)]
        return None if any(r is None for r in regions) else regions

    def write(self, target: int, base: Path) -> Path:
        """The overlay of ``target`` (shared scale) with its colour bar and class as ``base.png``."""
        from matplotlib.cm import ScalarMappable
        from matplotlib.colors import Normalize
        from matplotlib.figure import Figure

        e = self._e
        lo, hi = self.range(target)
        h, w = e.input.shape[:2]
        fig = Figure(figsize=(4.2, 3.6 * h / w + 0.4) if w >= h else (3.6 * w / h + 0.8, 4.0))
        ax = fig.subplots()
        ax.imshow(self.overlay(target))
        ax.set_title(f"{e.name(target)} ({e.probabilities[target]:.2f})", fontsize=9)
        if e.task == "detection" and "boxes" in e.extras:
            draw_box(ax, e.extras["boxes"][target])
        if (region := region_of(e, target)) is not None:
            draw_region(ax, region, (h, w))
        ax.axis("off")
        fig.colorbar(ScalarMappable(Normalize(lo, hi), "jet"), ax=ax, fraction=0.046, pad=0.02).set_label(
            "importance (shared scale)", fontsize=8
        )
        out = base.with_suffix(".png")
        fig.savefig(out, dpi=110, bbox_inches="tight")
        return out
