"""A synthetic image set with known class-defining features (XAI-TRIS-style, Clark et al. 2024) and a small CNN
trained on it, for scoring maps against ground truth (:mod:`peephole.metrics.ground_truth`).

Each image is smooth random texture (Gaussian-filtered noise, grey, in [0, 1]); one of :data:`PATTERNS`
(tetromino-like shapes of ``cell``-pixel squares) is added at a random position, brightening its pixels by
``strength``; the label is the pattern's index and its pixels are the image's feature mask. The shapes have the same
number of cells, so only the shape — not the amount of brightness — tells the classes apart.
The CNN needs torch (the ``models`` or ``lab`` extra).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from peephole.core.query import to_numpy

#: Class-defining patterns (cells of a 4×4 board); every one has 4 cells: T, L, S and the 2×2 square.
PATTERNS = {
    "T": ((0, 0), (0, 1), (0, 2), (1, 1)),
    "L": ((0, 0), (1, 0), (2, 0), (2, 1)),
    "S": ((0, 1), (0, 2), (1, 0), (1, 1)),
    "O": ((0, 0), (0, 1), (1, 0), (1, 1)),
}


SIZE = 32  #: the generated images' side, in pixels


@dataclass
class SyntheticSet:
    images: np.ndarray  #: N×H×W×3 float32 in [0, 1]
    labels: np.ndarray  #: N int: the index of the pattern in :data:`PATTERNS`
    masks: np.ndarray  #: N×H×W bool: the pattern's pixels (the ground truth)


def make_synthetic(n: int, size: int = SIZE, cell: int = 3, strength: float = 0.45, seed: int = 0) -> SyntheticSet:
    """``n`` images of ``size``×``size`` pixels, classes in turn (balanced); same seed -> same set."""
    from scipy.ndimage import gaussian_filter

    rng = np.random.default_rng(seed)
    shapes = list(PATTERNS.values())
    images = np.empty((n, size, size, 3), np.float32)
    labels = np.arange(n) % len(shapes)
    masks = np.zeros((n, size, size), bool)
    for i, label in enumerate(labels):
        texture = gaussian_filter(rng.normal(size=(size, size)), 2.0)
        texture = 0.3 + 0.25 * (texture - texture.min()) / max(np.ptp(texture), 1e-9)
        y0, x0 = rng.integers(0, size - 3 * cell + 1, size=2)
        for r, c in shapes[label]:
            masks[i, y0 + r * cell : y0 + (r + 1) * cell, x0 + c * cell : x0 + (c + 1) * cell] = True
        images[i] = np.clip(texture + strength * masks[i], 0, 1)[..., None]
    return SyntheticSet(images, labels, masks)


def train_cnn(data: SyntheticSet, epochs: int = 4, seed: int = 0) -> Any:
    """A small CNN (two 3×3 convolutions, global max pool) trained with Adam on ``data``; returns the ``nn.Module``
    (eval mode) taking N×3×H×W and returning logits (``peephole.explain(module, x, ..., output='logits')``)."""
    import torch
    from torch import nn

    torch.manual_seed(seed)
    net = nn.Sequential(
        nn.Conv2d(3, 16, 3, padding=1),
        nn.ReLU(),
        nn.Conv2d(16, 16, 3, padding=1),
        nn.ReLU(),
        nn.AdaptiveMaxPool2d(1),
        nn.Flatten(),
        nn.Linear(16, len(PATTERNS)),
    )
    x = torch.from_numpy(data.images).permute(0, 3, 1, 2).contiguous()
    y = torch.from_numpy(data.labels).long()
    opt = torch.optim.Adam(net.parameters(), lr=1e-2)
    order = torch.Generator().manual_seed(seed)
    for _ in range(epochs):
        for idx in torch.randperm(len(y), generator=order).split(32):
            opt.zero_grad()
            nn.functional.cross_entropy(net(x[idx]), y[idx]).backward()
            opt.step()
    return net.eval()


def accuracy(net: Any, data: SyntheticSet) -> float:
    """Share of ``data`` that ``net`` (from :func:`train_cnn`) classifies correctly."""
    import torch

    with torch.inference_mode():
        logits = net(torch.from_numpy(data.images).permute(0, 3, 1, 2).contiguous())
    return float((to_numpy(logits.argmax(1)) == data.labels).mean())


def synthetic_card_inputs(n: int, seed: int = 0) -> tuple[Any, list[Any]]:
    """For the card: a CNN trained on 400 images of ``seed`` (as a probabilities model) and ``n`` test images of
    ``seed + 1`` as card samples with their feature masks."""
    import torch

    from peephole.evaluation.card import Sample
    from peephole.models.callable import CallableModel

    net = train_cnn(make_synthetic(400, seed=seed), seed=seed)

    def probabilities(batch: np.ndarray) -> np.ndarray:
        with torch.inference_mode():
            x = torch.from_numpy(np.ascontiguousarray(batch, np.float32)).permute(0, 3, 1, 2)
            return to_numpy(torch.softmax(net(x), 1))

    test = make_synthetic(n, seed=seed + 1)
    names = list(PATTERNS)
    samples = [
        Sample(f"synthetic-{i:04d}", img, int(y), m) for i, (img, y, m) in enumerate(zip(test.images, test.labels, test.masks))
    ]
    return CallableModel(probabilities, "probs", class_names=names), samples
