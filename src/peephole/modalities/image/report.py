"""What a run's report shows of an image result: the input, and per class the map over it."""

from __future__ import annotations

from typing import Any

import numpy as np

from peephole.modalities.image.view import overlay


def input_picture(explanation: Any) -> np.ndarray:
    return (np.clip(explanation.input, 0, 1) * 255).round().astype(np.uint8)


#: The colour map of the overlays (the views' default).
CMAP = "jet"


def class_picture(explanation: Any, cls: int, vrange: tuple[float, float] | None = None) -> np.ndarray:
    """The overlay of the map of ``cls`` on the image, its colours spanning ``vrange`` (unset: its own range)."""
    lo, hi = vrange if vrange is not None else (None, None)
    return overlay(explanation.input, explanation.map_of(cls), cmap=CMAP, vmin=lo, vmax=hi)


def ramp(n: int = 11) -> list[str]:
    """``n`` CSS colours of the overlays' colour map, low to high (a report's colour bar)."""
    from matplotlib import colormaps
    from matplotlib.colors import to_hex

    return [to_hex(colormaps[CMAP](v)) for v in np.linspace(0, 1, n)]
