"""What a run's report shows of an image result: the input, and per class the map over it."""

from __future__ import annotations

from typing import Any

import numpy as np

from peephole.modalities.image.view import overlay, region_of


def input_picture(explanation: Any) -> np.ndarray:
    return (np.clip(explanation.input, 0, 1) * 255).round().astype(np.uint8)


#: The colour map of the overlays (the views' default).
CMAP = "jet"


def class_picture(explanation: Any, cls: int, vrange: tuple[float, float] | None = None) -> np.ndarray:
    """The overlay of the map of ``cls`` on the image, its colours spanning ``vrange`` (unset: its own range); a
    segmentation's class region outlined in white."""
    lo, hi = vrange if vrange is not None else (None, None)
    picture = overlay(explanation.input, explanation.map_of(cls), cmap=CMAP, vmin=lo, vmax=hi)
    if (region := region_of(explanation, cls)) is not None:
        outline(picture, region)
    return picture


def outline(picture: np.ndarray, region: np.ndarray) -> None:
    """Draws the edge of ``region`` (h×w bool, any size: resized to the picture's by nearest pixel) in white."""
    import cv2

    h, w = picture.shape[:2]
    mask = cv2.resize(region.astype(np.uint8), (w, h), interpolation=cv2.INTER_NEAREST)
    edge = mask.astype(bool) & ~cv2.erode(mask, np.ones((3, 3), np.uint8), borderType=cv2.BORDER_REPLICATE).astype(bool)
    picture[edge] = 255


def ramp(n: int = 11) -> list[str]:
    """``n`` CSS colours of the overlays' colour map, low to high (a report's colour bar)."""
    from matplotlib import colormaps
    from matplotlib.colors import to_hex

    return [to_hex(colormaps[CMAP](v)) for v in np.linspace(0, 1, n)]
