"""The bare forward passes the overhead ratio divides by, timed batch by batch beside PAMI's own
(shared by overhead.py and peers.py; run those scripts from the repository root)."""

from __future__ import annotations

import time

import numpy as np


class BareTwin:
    """Wraps a model: each call also times a bare call of the same batch size on a fixed batch."""

    def __init__(self, model, img: np.ndarray, batch_size: int) -> None:
        self.model, self.bare_s = model, 0.0
        self.output, self.class_names, self.preferred_batch_size = model.output, model.class_names, batch_size
        self.full = np.repeat(img[None], batch_size, axis=0)

    def __call__(self, batch):
        out = self.model(batch)
        ready = self.full[: len(batch)]
        t = time.perf_counter()
        self.model(ready)
        self.bare_s += time.perf_counter() - t
        return out
