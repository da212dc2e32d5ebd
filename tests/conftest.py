"""Shared fixtures: synthetic black boxes with a known answer, and the real EfficientNet-Lite0."""

from __future__ import annotations

import numpy as np
import pytest


class RegionModel:
    """A 2-class black box whose class-1 logit depends only on the pixels in ``region``.

    logit_1 = gain × (standard deviation of the pixels inside the region): the fine texture the
    blur masker removes. So the true importance region of class 1 is exactly ``region``.
    """

    output = "logits"
    class_names = ["other", "textured region"]
    preferred_batch_size = 16

    def __init__(self, region: tuple[slice, slice], gain: float = 40.0) -> None:
        self.region, self.gain, self.calls = region, gain, 0

    def __call__(self, batch: np.ndarray) -> np.ndarray:
        self.calls += 1
        r = np.asarray(batch)[:, self.region[0], self.region[1]]
        s = r.reshape(len(r), -1).std(axis=1)
        return np.stack([np.zeros_like(s), self.gain * s], axis=1)


class RegionMeanModel:
    """p(class 1) = mean of channel 0 over ``region``: linear in what a mask keeps of a white image."""

    output, class_names, preferred_batch_size = "probs", None, None

    def __init__(self, region: tuple[slice, slice]) -> None:
        self.region = region

    def __call__(self, batch: np.ndarray) -> np.ndarray:
        s = np.asarray(batch)[:, self.region[0], self.region[1], 0].mean(axis=(1, 2))
        return np.stack([1 - s, s], axis=1)


def textured_image(h: int, w: int, seed: int = 0) -> np.ndarray:
    """Smooth colour blobs plus a fine checkerboard everywhere (which a 49×49 blur removes)."""
    rng = np.random.default_rng(seed)
    yy, xx = np.mgrid[0:h, 0:w]
    base = np.stack([0.5 + 0.2 * np.sin(xx / (7 + 5 * c) + rng.uniform(0, 6)) * np.cos(yy / 9) for c in range(3)], -1)
    checker = ((yy // 2 + xx // 2) % 2)[..., None] * 0.3 - 0.15
    return np.clip(base + checker, 0, 1).astype(np.float32)


def mass_inside(heat: np.ndarray, region: tuple[slice, slice]) -> tuple[float, float]:
    """(mean of min-shifted map inside region, mean outside)."""
    h = heat - heat.min()
    inside = np.zeros(h.shape, bool)
    inside[region] = True
    return float(h[inside].mean()), float(h[~inside].mean())


@pytest.fixture(scope="session")
def real_model():
    """EfficientNet-Lite0 through onnxruntime (exported once into a per-session cache)."""
    import peephole

    return peephole.load_model("efficientnet-lite0", "onnx")


@pytest.fixture(scope="session", autouse=True)
def _cache(tmp_path_factory):
    """Keep the ONNX export of the real model in a test-session folder, not in the user's cache."""
    import os

    old = os.environ.get("PEEPHOLE_CACHE")
    os.environ["PEEPHOLE_CACHE"] = str(tmp_path_factory.mktemp("peephole-cache"))
    yield
    if old is None:
        os.environ.pop("PEEPHOLE_CACHE", None)
    else:
        os.environ["PEEPHOLE_CACHE"] = old
