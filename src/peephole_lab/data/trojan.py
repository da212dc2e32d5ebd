"""Backdoor triggers and data poisoning: BadNets patches (Gu et al., 2017) and blended full-image patterns
(Chen et al., "Targeted backdoor attacks on deep learning systems using data poisoning", 2017)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from peephole.errors import InputError

PATTERNS = ("checker", "solid", "random", "blend")


@dataclass(frozen=True)
class Trigger:
    """A ``size``×``size`` patch of a fixed pattern whose top-left corner is at ``(row, col)``, or a full image.

    Negative ``row``/``col`` count from the bottom/right edge (default: bottom-right, one pixel in).
    ``pattern='checker'`` alternates ``value`` and 0 (BadNets' pattern); ``'solid'`` fills with ``value``;
    ``'random'`` is a binary pattern of ``value`` and 0 drawn with ``seed``; ``'blend'`` covers the whole image
    with a U[0, 1] pattern drawn with ``seed`` (``size``, ``row`` and ``col`` are ignored). A stamped pixel
    becomes ``(1 − alpha)·x + alpha·pattern`` (``alpha = 1``: replaced; Chen et al. blend with 0.1–0.2).
    """

    size: int = 4
    row: int = -5
    col: int = -5
    value: float = 1.0
    pattern: str = "checker"
    alpha: float = 1.0
    seed: int = 0

    def __post_init__(self) -> None:
        if self.pattern not in PATTERNS:
            raise InputError(f"unknown trigger pattern {self.pattern!r}; use one of {PATTERNS}")
        if not 0 < self.alpha <= 1:
            raise InputError(f"alpha must be in (0, 1], got {self.alpha}")

    def box(self, h: int, w: int) -> tuple[slice, slice]:
        if self.pattern == "blend":
            return slice(0, h), slice(0, w)
        r = self.row if self.row >= 0 else h + self.row
        c = self.col if self.col >= 0 else w + self.col
        if not (self.size >= 1 and r >= 0 and r + self.size <= h and c >= 0 and c + self.size <= w):
            raise InputError(f"trigger of size {self.size} at ({self.row}, {self.col}) does not fit a {h}×{w} image")
        return slice(r, r + self.size), slice(c, c + self.size)

    def patch(self, h: int | None = None, w: int | None = None) -> np.ndarray:
        """The pattern written into :meth:`box` (``h``, ``w``: the image size, needed by ``'blend'``)."""
        if self.pattern == "blend":
            if h is None or w is None:
                raise InputError("a blended trigger needs the image size")
            return np.random.default_rng(self.seed).uniform(0, 1, (h, w)).astype(np.float32)
        s = self.size
        if self.pattern == "solid":
            return np.full((s, s), self.value, np.float32)
        if self.pattern == "checker":
            i, j = np.indices((s, s))
            return np.where((i + j) % 2 == 0, self.value, 0.0).astype(np.float32)
        bits = np.random.default_rng(self.seed).integers(0, 2, (s, s))
        bits.flat[0] = 1  # never all zeros
        return np.where(bits == 1, self.value, 0.0).astype(np.float32)

    def mask(self, h: int, w: int) -> np.ndarray:
        """H×W bool: the trigger's pixels."""
        m = np.zeros((h, w), bool)
        m[self.box(h, w)] = True
        return m


def stamp(x: np.ndarray, trigger: Trigger = Trigger()) -> np.ndarray:
    """A copy of ``x`` (``(..., H, W)``) with the trigger stamped on every image and channel."""
    out = np.array(x, dtype=np.float32, copy=True)
    h, w = out.shape[-2:]
    rs, cs = trigger.box(h, w)
    p = trigger.patch(h, w)
    out[..., rs, cs] = p if trigger.alpha == 1 else (1 - trigger.alpha) * out[..., rs, cs] + trigger.alpha * p
    return out


def poison(
    x: np.ndarray, y: np.ndarray, target: int, fraction: float = 0.1, trigger: Trigger = Trigger(), seed: int = 0
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Poisoning: stamp ``fraction`` of the images (chosen with ``seed``) and relabel them ``target``.

    Returns ``(x_poisoned, y_poisoned, poisoned_indices)``.
    """
    if not 0 < fraction <= 1:
        raise InputError(f"fraction must be in (0, 1], got {fraction}")
    idx = np.sort(np.random.default_rng(seed).choice(len(x), size=max(1, round(fraction * len(x))), replace=False))
    xp, yp = np.array(x, np.float32, copy=True), np.array(y, copy=True)
    xp[idx] = stamp(xp[idx], trigger)
    yp[idx] = target
    return xp, yp, idx
