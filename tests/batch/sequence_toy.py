"""A tiny sequence classifier for the run tests (importable as ``batch.sequence_toy:make_sequence_toy``)."""

from __future__ import annotations

from pathlib import Path

import numpy as np

PEAK = slice(10, 15)  #: the positions class 'peak' looks at


class SequenceToy:
    """2 classes, 'flat' / 'peak': p(peak) grows with the mean of positions 10..14 (channels averaged)."""

    output = "probs"
    class_names = ["flat", "peak"]
    preferred_batch_size = 64
    modality = "sequence"

    def __call__(self, batch: np.ndarray) -> np.ndarray:
        b = np.asarray(batch, np.float64)
        b = b.reshape(len(b), b.shape[1], -1).mean(2)
        p = 1 / (1 + np.exp(-6 * (b[:, PEAK].mean(1) - 0.5)))
        return np.stack([1 - p, p], 1)


def make_sequence_toy() -> SequenceToy:
    return SequenceToy()


def signals(n: int = 4, length: int = 32, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """``n`` noisy signals, the even ones with a bump on :data:`PEAK`; labels 1 (peak) / 0 (flat)."""
    rng = np.random.default_rng(seed)
    x = rng.random((n, length)) * 0.2
    y = np.arange(n) % 2 == 0
    x[y, PEAK] += 1.0
    return x.astype(np.float32), y.astype(np.int64)


def write_signals(path: Path, n: int = 4) -> Path:
    x, y = signals(n)
    path.parent.mkdir(parents=True, exist_ok=True)
    if path.suffix == ".npz":
        np.savez(path, x=x, y=y)
    else:
        np.save(path, x)
    return path
