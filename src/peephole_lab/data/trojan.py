"""Backdoor triggers and data poisoning: BadNets patches (Gu et al., 2017), blended full-image patterns
(Chen et al., "Targeted backdoor attacks on deep learning systems using data poisoning", 2017) and, for the wide
zoo, hollow and non-square patches, thin lines, dispersed multi-part triggers, structured (stripe) blends and
WaNet-style warps (Nguyen & Tran, "WaNet – imperceptible warping-based backdoor attack", ICLR 2021)."""

from __future__ import annotations

import operator
from dataclasses import dataclass

import numpy as np

from peephole.core.options import require
from peephole.errors import InputError

PATTERNS = ("checker", "solid", "random", "blend")  #: the default zoo's trigger families
#: the wide zoo's further families: patches (``size``×``width``), full-image (``FULL``) and input-wide warps
WIDE_PATTERNS = ("hollow", "rect", "line", "multi", "stripes", "warp")
FULL = ("blend", "multi", "stripes", "warp")  #: families that cover the whole image (size/row/col ignored)


@dataclass(frozen=True)
class Trigger:
    """A ``size``×``size`` patch of a fixed pattern whose top-left corner is at ``(row, col)``, or a full image.

    Negative ``row``/``col`` count from the bottom/right edge (default: bottom-right, one pixel in).
    ``pattern='checker'`` alternates ``value`` and 0 (BadNets' pattern); ``'solid'`` fills with ``value``;
    ``'random'`` is a binary pattern of ``value`` and 0 drawn with ``seed``; ``'blend'`` covers the whole image
    with a U[0, 1] pattern drawn with ``seed`` (``size``, ``row`` and ``col`` are ignored). A stamped pixel
    becomes ``(1 − alpha)·x + alpha·pattern`` (``alpha = 1``: replaced; Chen et al. blend with 0.1–0.2).
    Wide-zoo families: ``'hollow'`` a square outline; ``'rect'`` a solid ``size``×``width`` patch (``width``
    defaults to 2·size); ``'line'`` a 1-px line, horizontal of length ``size`` (vertical when ``width == 1`` and
    ``size > 1``: see :meth:`shape`); ``'multi'`` three 2×2 squares at places drawn with ``seed``; ``'stripes'``
    a full-image sinusoidal grating (period ``size`` px, angle from ``seed``); ``'warp'`` moves every pixel
    along a smooth random field of strength ``alpha``·4 px (not a blend: ``stamp`` resamples the image).
    """

    size: int = 4
    row: int = -5
    col: int = -5
    value: float = 1.0
    pattern: str = "checker"
    alpha: float = 1.0
    seed: int = 0
    width: int | None = None

    def __post_init__(self) -> None:
        if self.pattern not in PATTERNS + WIDE_PATTERNS:
            raise InputError(f"unknown trigger pattern {self.pattern!r}; use one of {PATTERNS + WIDE_PATTERNS}")
        if not 0 < self.alpha <= 1:
            raise InputError(f"alpha must be in (0, 1], got {self.alpha}")

    def shape(self) -> tuple[int, int]:
        """(rows, columns) of a patch trigger."""
        if self.pattern == "rect":
            return self.size, self.width or 2 * self.size
        if self.pattern == "line":
            return (self.size, 1) if self.width == 1 and self.size > 1 else (1, self.size)
        return self.size, self.size

    def box(self, h: int, w: int) -> tuple[slice, slice]:
        if self.pattern in FULL:
            return slice(0, h), slice(0, w)
        ph, pw = self.shape()
        r = self.row if self.row >= 0 else h + self.row
        c = self.col if self.col >= 0 else w + self.col
        if not (self.size >= 1 and r >= 0 and r + ph <= h and c >= 0 and c + pw <= w):
            raise InputError(f"trigger of size {ph}×{pw} at ({self.row}, {self.col}) does not fit a {h}×{w} image")
        return slice(r, r + ph), slice(c, c + pw)

    def patch(self, h: int | None = None, w: int | None = None) -> np.ndarray:
        """The pattern written into :meth:`box` (``h``, ``w``: the image size, needed by ``'blend'``)."""
        if self.pattern in FULL:
            if h is None or w is None:
                raise InputError(f"a {self.pattern} trigger needs the image size")
            return self._full(h, w)
        s = self.size
        if self.pattern in ("solid", "rect", "line"):
            return np.full(self.shape(), self.value, np.float32)
        if self.pattern == "hollow":
            out = np.full((s, s), self.value, np.float32)
            out[1:-1, 1:-1] = 0
            return out
        if self.pattern == "checker":
            i, j = np.indices((s, s))
            return np.where((i + j) % 2 == 0, self.value, 0.0).astype(np.float32)
        bits = np.random.default_rng(self.seed).integers(0, 2, (s, s))
        bits.flat[0] = 1  # never all zeros
        return np.where(bits == 1, self.value, 0.0).astype(np.float32)

    def _full(self, h: int, w: int) -> np.ndarray:
        rng = np.random.default_rng(self.seed)
        if self.pattern == "blend":
            return rng.uniform(0, 1, (h, w)).astype(np.float32)
        if self.pattern == "stripes":
            theta = rng.uniform(0, np.pi)
            i, j = np.indices((h, w))
            phase = 2 * np.pi * (i * np.sin(theta) + j * np.cos(theta)) / max(self.size, 2)
            return (0.5 + 0.5 * np.sin(phase)).astype(np.float32)
        if self.pattern == "multi":
            out = np.zeros((h, w), np.float32)
            for _ in range(3):
                r, c = int(rng.integers(1, h - 3)), int(rng.integers(1, w - 3))
                out[r : r + 2, c : c + 2] = self.value
            return out
        # warp: a smooth displacement field (4×4 control grid upsampled bilinearly, as WaNet), at most 4·alpha px
        import cv2

        field = rng.uniform(-1, 1, (2, 4, 4)).astype(np.float32)
        field /= np.abs(field).max()
        return np.stack([cv2.resize(f, (w, h), interpolation=cv2.INTER_LINEAR) for f in field]) * 4 * self.alpha

    def mask(self, h: int, w: int) -> np.ndarray:
        """H×W bool: the trigger's pixels (``'multi'``: its squares; a warp moves every pixel)."""
        if self.pattern == "multi":
            return self._full(h, w) > 0
        m = np.zeros((h, w), bool)
        m[self.box(h, w)] = True
        return m


def stamp(x: np.ndarray, trigger: Trigger = Trigger()) -> np.ndarray:
    """A copy of ``x`` (``(..., H, W)``) with the trigger stamped on every image and channel."""
    out = np.array(x, dtype=np.float32, copy=True)
    h, w = out.shape[-2:]
    if trigger.pattern == "warp":
        return _warp(out, trigger.patch(h, w))
    rs, cs = trigger.box(h, w)
    p = trigger.patch(h, w)
    if trigger.pattern in ("hollow", "multi"):  # only the drawn pixels: the hollow's inside shows the image
        keep = p > 0
        region = out[..., rs, cs]
        region[..., keep] = (1 - trigger.alpha) * region[..., keep] + trigger.alpha * p[keep]
        out[..., rs, cs] = region
        return out
    out[..., rs, cs] = p if trigger.alpha == 1 else (1 - trigger.alpha) * out[..., rs, cs] + trigger.alpha * p
    return out


def _warp(x: np.ndarray, field: np.ndarray) -> np.ndarray:
    """Every (H, W) plane of ``x`` resampled at ``(i + dy, j + dx)`` (bilinear, border replicated)."""
    import cv2

    h, w = x.shape[-2:]
    i, j = np.indices((h, w), np.float32)
    map_y, map_x = i + field[0], j + field[1]
    flat = x.reshape(-1, h, w)
    for k in range(len(flat)):
        flat[k] = cv2.remap(flat[k], map_x, map_y, cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)
    return flat.reshape(x.shape)


def poison(
    x: np.ndarray, y: np.ndarray, target: int, fraction: float = 0.1, trigger: Trigger = Trigger(), seed: int = 0
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Poisoning: stamp ``fraction`` of the images (chosen with ``seed``) and relabel them ``target``.

    Returns ``(x_poisoned, y_poisoned, poisoned_indices)``.
    """
    if not 0 < fraction <= 1:
        raise InputError(f"fraction must be in (0, 1], got {fraction}")
    require("target", target, "a class index (a whole number >= 0)", lambda t: not isinstance(t, bool) and operator.index(t) >= 0)
    idx = np.sort(np.random.default_rng(seed).choice(len(x), size=max(1, round(fraction * len(x))), replace=False))
    xp, yp = np.array(x, np.float32, copy=True), np.array(y, copy=True)
    xp[idx] = stamp(xp[idx], trigger)
    yp[idx] = target
    return xp, yp, idx
