"""Synthetic multi-object images with known object masks: coloured shapes on textured canvases.

Each image holds 1..``max_objects`` shapes of distinct classes (``SHAPES``) with a random colour, size and
place on a random low-frequency texture; the class is given by the shape only, never by the colour —
unless ``colour_coded``, where each class also has its own colour (an easier task, for short test runs).
Later objects are drawn over earlier ones, and the masks say which pixels each class finally owns.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

from peephole.errors import InputError

SHAPES = ("disc", "triangle", "cross", "square")  #: the first classes are the most distinct
#: class colours when ``colour_coded`` (red, green, blue, yellow)
PALETTE = np.array([[0.9, 0.1, 0.1], [0.1, 0.8, 0.1], [0.1, 0.2, 0.9], [0.9, 0.9, 0.1]], np.float32)


@dataclass
class Canvases:
    images: np.ndarray  #: (n, 3, S, S) float32 in [0, 1]
    labels: np.ndarray  #: (n, K) float32 multi-hot: which classes are present
    masks: np.ndarray  #: (n, K, S, S) bool: each class's pixels
    class_names: tuple[str, ...] = SHAPES

    def __len__(self) -> int:
        return len(self.images)


def _texture(rng: np.random.Generator, size: int) -> np.ndarray:
    coarse = rng.uniform(0.0, 1.0, (4, 4, 3)).astype(np.float32)
    smooth = cv2.resize(coarse, (size, size), interpolation=cv2.INTER_CUBIC)
    fine = rng.normal(0.0, 0.05, (size, size, 3)).astype(np.float32)
    return np.clip(0.25 + 0.35 * smooth + fine, 0, 1)


def _draw(shape: str, size: int, cy: int, cx: int, r: int) -> np.ndarray:
    m = np.zeros((size, size), np.uint8)
    if shape == "disc":
        cv2.circle(m, (cx, cy), r, 1, -1)
    elif shape == "square":
        cv2.rectangle(m, (cx - r, cy - r), (cx + r, cy + r), 1, -1)
    elif shape == "triangle":
        pts = np.array([[cx, cy - r], [cx - r, cy + r], [cx + r, cy + r]], np.int32)
        cv2.fillPoly(m, [pts], 1)
    elif shape == "cross":
        t = max(1, r // 3)
        cv2.rectangle(m, (cx - r, cy - t), (cx + r, cy + t), 1, -1)
        cv2.rectangle(m, (cx - t, cy - r), (cx + t, cy + r), 1, -1)
    else:
        raise InputError(f"unknown shape {shape!r}; use one of {SHAPES}")
    return m.astype(bool)


def make_canvases(
    n: int, size: int = 32, max_objects: int = 2, seed: int = 0, n_classes: int = len(SHAPES), colour_coded: bool = False
) -> Canvases:
    """``n`` canvases of ``size``×``size`` pixels with 1..``max_objects`` objects of distinct classes each."""
    if not 1 <= n_classes <= len(SHAPES):
        raise InputError(f"n_classes must be in 1..{len(SHAPES)}, got {n_classes}")
    if not 1 <= max_objects <= n_classes:
        raise InputError(f"max_objects must be in 1..{n_classes}, got {max_objects}")
    if size < 16:
        raise InputError(f"size must be >= 16, got {size}")
    rng = np.random.default_rng(seed)
    images = np.empty((n, 3, size, size), np.float32)
    labels = np.zeros((n, n_classes), np.float32)
    masks = np.zeros((n, n_classes, size, size), bool)
    for i in range(n):
        img = _texture(rng, size)
        owner = np.full((size, size), -1)
        k = int(rng.integers(1, max_objects + 1))
        for c in rng.choice(n_classes, size=k, replace=False):
            r = int(rng.integers(size // 6, size // 4 + 1))
            cy, cx = (int(v) for v in rng.integers(r, size - r, size=2))
            m = _draw(SHAPES[c], size, cy, cx, r)
            colour = rng.uniform(0.0, 1.0, 3).astype(np.float32)
            colour[rng.integers(3)] = rng.choice([0.05, 0.95])  # keep some contrast with the mid-grey texture
            if colour_coded:
                colour = np.clip(PALETTE[c] + rng.uniform(-0.1, 0.1, 3), 0, 1).astype(np.float32)
            img[m] = colour
            owner[m] = c
        for c in range(n_classes):
            masks[i, c] = owner == c
            labels[i, c] = float(masks[i, c].any())
        images[i] = img.transpose(2, 0, 1)
    return Canvases(images, labels, masks, SHAPES[:n_classes])
