"""Superpixel algorithms (scikit-image, OpenCV contrib), each ``image -> int label map``.

Every segmenter accepts an H×W×3 float image in [0, 1] or an H×W float map (PAMI's second run
segments the importance map itself), and returns labels ``0..n-1`` of shape H×W.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
from skimage import color, filters, segmentation

from peephole.errors import InputError

Segmenter = Callable[..., np.ndarray]


def _gray(img: np.ndarray) -> np.ndarray:
    return color.rgb2gray(img) if img.ndim == 3 else img


def _channel_axis(img: np.ndarray) -> int | None:
    return -1 if img.ndim == 3 else None


def felzenszwalb(img: np.ndarray, scale: float = 100, sigma: float = 0.8, min_size: int = 784) -> np.ndarray:
    return segmentation.felzenszwalb(img, scale=scale, sigma=sigma, min_size=min_size, channel_axis=_channel_axis(img))


def slic(img: np.ndarray, n_segments: int = 50, compactness: float = 20) -> np.ndarray:
    if img.ndim == 2:  # compactness is relative to the colour range; a map in [0,1] needs it scaled
        compactness = compactness / 100
    return segmentation.slic(img, n_segments=n_segments, compactness=compactness, start_label=0, channel_axis=_channel_axis(img))


#: SEEDS runs on an image of at least this side: OpenCV's SEEDS segfaults or never returns on small and
#: thin images (sides <= 3 hang; 8×9, 9×9, 11×8, 4×20 segfault). Checked safe from 64×64 for
#: 1..200 superpixels and 1..6 levels (random and constant images).
SEEDS_MIN_SIDE = 64
SEEDS_MAX_LEVELS = 6


def seeds(img: np.ndarray, num_superpixels: int = 20, num_levels: int = 5, n_iter: int = 10) -> np.ndarray:
    """OpenCV's SEEDS, guarded before the native call (it can crash the interpreter, so never after).

    OpenCV crashes (segfault) on elongated images with few superpixels (e.g. 200×90, 10 superpixels)
    and on small ones, so images whose aspect ratio exceeds 1.25 or whose shorter side is below
    :data:`SEEDS_MIN_SIDE` are segmented on a square resample (side ``max(64, √(H·W))``) and the labels
    are mapped back with nearest-neighbour interpolation. Parameters outside the checked range
    (``num_superpixels`` 1..side²/16, ``num_levels`` 1..6, ``n_iter`` >= 0) are an :class:`InputError`.
    """
    import cv2

    if not hasattr(cv2, "ximgproc"):
        raise InputError("SEEDS superpixels need OpenCV contrib: pip install opencv-contrib-python-headless")
    rgb = np.repeat(img[..., None], 3, axis=-1) if img.ndim == 2 else img
    u8 = np.ascontiguousarray(np.clip(rgb * 255, 0, 255).astype(np.uint8))
    h, w = u8.shape[:2]
    if max(h, w) > 1.25 * min(h, w) or min(h, w) < SEEDS_MIN_SIDE:
        side = max(SEEDS_MIN_SIDE, round((h * w) ** 0.5))
        interp = cv2.INTER_AREA if side * side < h * w else cv2.INTER_NEAREST
        u8 = np.ascontiguousarray(cv2.resize(u8, (side, side), interpolation=interp))
    sh, sw = u8.shape[:2]
    n, levels, iters = int(num_superpixels), int(num_levels), int(n_iter)
    if not 1 <= n <= sh * sw // 16:
        raise InputError(f"SEEDS num_superpixels must be in 1..{sh * sw // 16} for a {sh}×{sw} image, got {n}")
    if not 1 <= levels <= SEEDS_MAX_LEVELS:
        raise InputError(f"SEEDS num_levels must be in 1..{SEEDS_MAX_LEVELS}, got {levels}")
    if iters < 0:
        raise InputError(f"SEEDS n_iter must be >= 0, got {iters}")
    s = cv2.ximgproc.createSuperpixelSEEDS(sw, sh, 3, n, levels)
    s.iterate(u8, iters)
    labels = s.getLabels()
    if (sh, sw) != (h, w):
        labels = cv2.resize(labels, (w, h), interpolation=cv2.INTER_NEAREST)
    return np.unique(labels, return_inverse=True)[1].reshape(h, w).astype(np.int64)


def watershed(img: np.ndarray, markers: int = 20, compactness: float = 1e-4) -> np.ndarray:
    grad = filters.sobel(_gray(img))
    return segmentation.watershed(grad, markers=int(markers), compactness=compactness) - 1


SEGMENTERS: dict[str, Segmenter] = {
    "felzenszwalb": felzenszwalb,
    "slic": slic,
    "seeds": seeds,
    "watershed": watershed,
}
