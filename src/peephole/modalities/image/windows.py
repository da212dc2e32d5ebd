"""PAMI Strategy I: sliding windows (circular or square) whose centres cover the whole image; and the grid of
cells that HSIC and Sobol attribution perturb (their papers' 8×8 grid)."""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any

import numpy as np
from scipy.sparse import csr_array

from peephole.core.options import require
from peephole.core.partition import MAX_FEATURES, MAX_PARTS, Partition, State, check_limit, saved_params
from peephole.errors import InputError


def window_centres(length: int, stride: int) -> np.ndarray:
    """Centres every ``stride`` pixels from 0, plus the last pixel, so both borders are reached."""
    c = np.arange(0, length, stride)
    return c if c[-1] == length - 1 else np.append(c, length - 1)


def uncovered_gap(radius: int, stride: int, shape: str = "circle") -> float:
    """Distance from the worst-placed pixel to its nearest centre when it exceeds ``radius``, else 0.

    A pixel is covered iff some centre is within the window (Euclidean ``radius`` for circles, Chebyshev
    for squares). Centres lie every ``stride`` pixels on both axes (plus the last pixel), so the worst
    pixel is ``stride // 2`` from the nearest centre on each axis: circles need ``√2·(stride // 2) <= radius``,
    squares ``stride // 2 <= radius``.
    """
    half = stride // 2
    worst = half * 2**0.5 if shape == "circle" else float(half)
    return worst if worst > radius else 0.0


def max_stride(radius: int, shape: str = "circle") -> int:
    """The largest stride whose windows cover every pixel (see :func:`uncovered_gap`): ``2·half + 1`` for the
    largest ``half`` within the radius (``half·√2`` for circles), found in closed form and then checked against
    :func:`uncovered_gap` (a search stride by stride took O(radius): hours at a radius of 2**40)."""
    half = int(radius / 2**0.5) if shape == "circle" else int(radius)
    while half > 0 and uncovered_gap(radius, 2 * half + 1, shape):
        half -= 1
    while not uncovered_gap(radius, 2 * half + 3, shape):
        half += 1
    return 2 * half + 1


#: Strategy I's windows on the paper's 224×224 inputs: radius 40 px, centres every 6 px. Unset, both scale with the
#: image's shorter side, so every image size gets the same windows relative to it (about 1,500 on a square image).
REFERENCE_SIDE, REFERENCE_RADIUS, REFERENCE_STRIDE = 224, 40, 6


@dataclass(frozen=True)
class WindowOptions:
    """The options of the ``'window'`` partition (checked by :class:`SlidingWindows`)."""

    radius: int | None = None  #: pixels from the centre (unset: 40 at a 224-px shorter side, in proportion to it)
    stride: int | None = None  #: pixels between centres (unset: 6 at a 224-px shorter side, at most what covers all)
    window: str = "circle"  #: 'circle' or 'square'

    def __post_init__(self) -> None:
        require("radius", self.radius, ">= 1", lambda v: v is None or v >= 1)
        require("stride", self.stride, ">= 1", lambda v: v is None or v >= 1)
        require("window", self.window, "'circle' or 'square'", lambda v: v in ("circle", "square"))

    def sized(self, height: int, width: int) -> WindowOptions:
        """These options on an image of ``height``×``width``: an unset radius or stride in proportion to the shorter
        side (40 and 6 px at 224); an unset stride at most the largest that leaves no pixel outside every window."""
        side = min(height, width) / REFERENCE_SIDE
        radius = self.radius if self.radius is not None else max(1, round(REFERENCE_RADIUS * side))
        stride = self.stride
        if stride is None:
            stride = min(max(1, round(REFERENCE_STRIDE * side)), max_stride(radius, self.window))
        return replace(self, radius=radius, stride=stride)


class SlidingWindows(Partition):
    """Windows of ``radius`` pixels centred on a grid of ``stride`` pixels over an H×W image.

    Centres are placed per axis (rows over H, columns over W), so non-square images are covered
    completely. ``shape='circle'`` keeps pixels within ``radius`` of the centre (Euclidean);
    ``'square'`` keeps a (2·radius+1)² square. One group: Eq. 1 divides by the coverage count. A stride
    that would leave any pixel in no window (circles: stride > radius·√2) is an :class:`InputError`.
    """

    def __init__(self, height: int, width: int, radius: int = 40, stride: int = 6, shape: str = "circle") -> None:
        if radius < 1 or stride < 1:
            raise InputError(f"window radius and stride must be >= 1, got radius={radius}, stride={stride}")
        if shape not in ("circle", "square"):
            raise InputError(f"window shape must be 'circle' or 'square', got {shape!r}")
        gap = uncovered_gap(radius, stride, shape)
        if gap:
            raise InputError(
                f"stride {stride} leaves pixels outside every {shape} window of radius {radius} "
                f"(a pixel {gap:.1f} px from the nearest centre); use stride <= {max_stride(radius, shape)}"
            )
        if min(height, width) < 2 * radius + 1:
            raise InputError(
                f"image of {height}×{width} pixels is smaller than the window (diameter {2 * radius + 1}); "
                f"use a smaller radius or a larger image"
            )
        self.shape = (int(height), int(width))
        self.radius, self.stride, self.window = int(radius), int(stride), shape
        rows, cols = window_centres(height, stride), window_centres(width, stride)
        self.centres = np.stack(np.meshgrid(rows, cols, indexing="ij"), axis=-1).reshape(-1, 2)
        d = np.arange(-radius, radius + 1)
        self._stencil = (
            (d[:, None] ** 2 + d[None, :] ** 2) <= radius**2 if shape == "circle" else np.ones((d.size, d.size), dtype=bool)
        )
        self._groups = np.zeros(len(self.centres), dtype=np.int64)
        # the stencil's pixels relative to the centre, row-major: a window's flat indices come out ascending
        self._offsets = tuple((o - radius).astype(np.int32) for o in np.nonzero(self._stencil))

    @property
    def n_parts(self) -> int:
        return len(self.centres)

    @property
    def groups(self) -> np.ndarray:
        return self._groups

    def state(self) -> State:
        h, w = self.shape
        return {"height": h, "width": w, "radius": self.radius, "stride": self.stride, "shape": self.window}, {}

    @classmethod
    def from_state(cls, params: dict[str, Any], arrays: dict[str, np.ndarray]) -> SlidingWindows:
        p = saved_params(cls.__name__, params, height=int, width=int, radius=int, stride=int, shape=str)
        h, w, r, s = p["height"], p["width"], p["radius"], p["stride"]
        if min(h, w, r, s) < 1 or 2 * r + 1 > min(h, w):
            raise InputError(f"saved {cls.__name__}: {h}×{w} image, radius {r}, stride {s}")
        check_limit(cls.__name__, "pixels", h * w, MAX_FEATURES)
        check_limit(cls.__name__, "windows", (-(-h // s) + 1) * (-(-w // s) + 1), MAX_PARTS)
        return cls(**p)

    def masks(self, start: int, stop: int) -> np.ndarray:
        h, w = self.shape
        r = self.radius
        out = np.zeros((stop - start, h, w), dtype=bool)
        for i, (cy, cx) in enumerate(self.centres[start:stop]):
            y0, y1, x0, x1 = max(cy - r, 0), min(cy + r + 1, h), max(cx - r, 0), min(cx + r + 1, w)
            out[i, y0:y1, x0:x1] = self._stencil[y0 - cy + r : y1 - cy + r, x0 - cx + r : x1 - cx + r]
        return out

    @property
    def part_elements(self) -> int:
        return self._stencil.size

    def sparse_masks(self, start: int, stop: int) -> csr_array:
        """Each window's pixels from the stencil's offsets, clipped to the image (no H×W mask per window)."""
        h, w = self.shape
        dy, dx = self._offsets
        ys = self.centres[start:stop, :1].astype(np.int32) + dy
        xs = self.centres[start:stop, 1:].astype(np.int32) + dx
        inside = (ys >= 0) & (ys < h) & (xs >= 0) & (xs < w)
        idx = (ys * np.int32(w) + xs)[inside]
        indptr = np.zeros(stop - start + 1, np.int32)
        np.cumsum(inside.sum(1), out=indptr[1:])
        return csr_array((np.ones(len(idx), np.float32), idx, indptr), shape=(stop - start, h * w))


@dataclass(frozen=True)
class GridOptions:
    """The options of the ``'grid'`` partition."""

    cells: int = 8  #: cells per side (HSIC and Sobol attribution: 8)

    def __post_init__(self) -> None:
        require("cells", self.cells, ">= 1", lambda v: v >= 1)


def grid_labels(height: int, width: int, cells: int) -> np.ndarray:
    """H×W label map of a ``cells×cells`` grid: pixel (r, c) lies in cell ``(r·cells // H, c·cells // W)``, as a
    nearest-neighbour upsampling of a cells×cells mask (Xplique's HSIC and Sobol attribution)."""
    if cells > min(height, width):
        raise InputError(f"a grid of {cells}×{cells} cells does not fit a {height}×{width} image")
    rows, cols = np.arange(height) * cells // height, np.arange(width) * cells // width
    return rows[:, None] * cells + cols[None, :]
