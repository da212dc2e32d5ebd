"""BadNets trojans (Gu et al., 2017): a fixed small patch stamped on a fraction of training images, relabelled."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from peephole.errors import InputError


@dataclass(frozen=True)
class Trigger:
    """A ``size``×``size`` patch of a fixed pattern whose top-left corner is at ``(row, col)``.

    Negative ``row``/``col`` count from the bottom/right edge (default: bottom-right, one pixel in).
    ``pattern='checker'`` alternates ``value`` and 0 (BadNets' pattern); ``'solid'`` fills with ``value``.
    """

    size: int = 4
    row: int = -5
    col: int = -5
    value: float = 1.0
    pattern: str = "checker"

    def box(self, h: int, w: int) -> tuple[slice, slice]:
        r = self.row if self.row >= 0 else h + self.row
        c = self.col if self.col >= 0 else w + self.col
        if not (r >= 0 and r + self.size <= h and c >= 0 and c + self.size <= w):
            raise InputError(f"trigger of size {self.size} at ({self.row}, {self.col}) does not fit a {h}×{w} image")
        return slice(r, r + self.size), slice(c, c + self.size)

    def patch(self) -> np.ndarray:
        if self.pattern == "solid":
            return np.full((self.size, self.size), self.value, np.float32)
        if self.pattern == "checker":
            i, j = np.indices((self.size, self.size))
            return np.where((i + j) % 2 == 0, self.value, 0.0).astype(np.float32)
        raise InputError(f"unknown trigger pattern {self.pattern!r}; use 'checker' or 'solid'")

    def mask(self, h: int, w: int) -> np.ndarray:
        """H×W bool: the trigger's pixels."""
        m = np.zeros((h, w), bool)
        m[self.box(h, w)] = True
        return m


def stamp(x: np.ndarray, trigger: Trigger = Trigger()) -> np.ndarray:
    """A copy of ``x`` (``(..., H, W)``) with the trigger stamped on every image and channel."""
    out = np.array(x, dtype=np.float32, copy=True)
    rs, cs = trigger.box(*out.shape[-2:])
    out[..., rs, cs] = trigger.patch()
    return out


def poison(
    x: np.ndarray, y: np.ndarray, target: int, fraction: float = 0.1, trigger: Trigger = Trigger(), seed: int = 0
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """BadNets poisoning: stamp ``fraction`` of the images (chosen with ``seed``) and relabel them ``target``.

    Returns ``(x_poisoned, y_poisoned, poisoned_indices)``.
    """
    if not 0 < fraction <= 1:
        raise InputError(f"fraction must be in (0, 1], got {fraction}")
    idx = np.sort(np.random.default_rng(seed).choice(len(x), size=max(1, round(fraction * len(x))), replace=False))
    xp, yp = np.array(x, np.float32, copy=True), np.array(y, copy=True)
    xp[idx] = stamp(xp[idx], trigger)
    yp[idx] = target
    return xp, yp, idx
