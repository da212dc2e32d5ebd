"""Toy models and datasets for the run tests (importable by name, so subprocesses and Ray actors rebuild them)."""

from __future__ import annotations

import importlib
import os
import time
from pathlib import Path

import numpy as np
import pytest


class ToyImageModel:
    """3 classes from colour statistics: 'dark', 'bright', 'red'. Pixel-local, so maps differ per class."""

    output = "probs"
    class_names = ["dark", "bright", "red"]
    preferred_batch_size = 64
    modality = "image"

    def __init__(self, delay: float = 0.0) -> None:
        self.delay, self.calls = delay, 0

    def __call__(self, batch: np.ndarray) -> np.ndarray:
        self.calls += 1
        if self.delay:
            time.sleep(self.delay)
        b = np.asarray(batch, np.float64)
        h = b.shape[1] // 2
        m = b.reshape(len(b), -1, 3).mean(1)
        top = b[:, :h].reshape(len(b), -1, 3).mean(1)
        z = np.stack([1 - m.mean(1), top.mean(1), m[:, 0] - m[:, 1:].mean(1) + 0.3], 1) * 6
        e = np.exp(z - z.max(1, keepdims=True))
        return e / e.sum(1, keepdims=True)


class ToyTextModel:
    """2 classes, 'negative' / 'positive': each 'good' adds to positive, each 'bad' to negative."""

    output = "logits"
    class_names = ["negative", "positive"]
    preferred_batch_size = 64
    modality = "text"

    def __call__(self, texts: list[str]) -> np.ndarray:
        out = []
        for t in texts:
            w = t.lower().split()
            out.append([w.count("bad") * 1.5 + 0.1, w.count("good") * 1.5])
        return np.asarray(out, np.float64)


def make_toy() -> ToyImageModel:
    return ToyImageModel()


def make_slow_toy() -> ToyImageModel:
    """A toy whose every batch takes 30 ms: a run of a few items lasts long enough to be killed mid-way."""
    return ToyImageModel(delay=0.03)


def make_text_toy() -> ToyTextModel:
    return ToyTextModel()


def write_images(folder: Path, n: int, seed: int = 0, size: tuple[int, int] = (40, 48)) -> list[Path]:
    """``n`` random-noise PNGs with a coloured blob, half of them in a sub-folder."""
    from PIL import Image

    rng = np.random.default_rng(seed)
    paths = []
    for i in range(n):
        img = rng.random((*size, 3)) * 0.4
        y, x = rng.integers(0, size[0] - 12), rng.integers(0, size[1] - 12)
        img[y : y + 12, x : x + 12, rng.integers(0, 3)] = 1.0
        p = folder / ("sub" if i % 2 else "") / f"img{i:03d}.png"
        p.parent.mkdir(parents=True, exist_ok=True)
        Image.fromarray((img * 255).astype(np.uint8)).save(p)
        paths.append(p)
    return paths


#: User strings that would run if a report parsed them as HTML.
EVIL = "<script>window.__pwned = 1</script> good film"
EVIL_NAME = "<img src=x onerror=window.__pwned=2>.png"

#: Settings of the toy runs: window partition on 32×32 images, fast (about 30 queries per item).
TOY = {"method": "pami", "size": 32, "partition": "window", "radius": 8, "stride": 6, "top_k": 2}


def require(module: str) -> None:
    """Import ``module`` or fail in CI (CI=true); skip only on a developer machine without it."""
    try:
        importlib.import_module(module)
    except ImportError:
        if os.environ.get("CI"):
            pytest.fail(f"{module} is required in CI (pip install -e '.[all]')")
        pytest.skip(f"{module} not installed")
