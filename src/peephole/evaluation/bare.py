"""The bare forward passes an explainer's overhead ratio divides by: wall time ÷ the time of the same number of
model queries on their own (docs/pami.md). Timed batch by batch beside the explainer's own calls, so both see the
same machine load (used by ``peephole benchmark --card --budgets`` and ``experiments/overhead.py``, ``peers.py``)."""

from __future__ import annotations

import time
from typing import Any

import numpy as np


class BareTwin:
    """Wraps a model: each call also times a bare call of the same batch size on a fixed batch (copies of ``img``);
    ``bare_s`` adds those times up. ``batch_size``: the batch the explainer is offered (default: the model's own)."""

    def __init__(self, model: Any, img: np.ndarray, batch_size: int | None = None) -> None:
        self.model, self.bare_s, self.img = model, 0.0, img
        self.output, self.class_names = model.output, getattr(model, "class_names", None)
        self.preferred_batch_size = batch_size or getattr(model, "preferred_batch_size", None)
        self.full = np.repeat(img[None], batch_size or 1, axis=0)

    def __call__(self, batch: Any) -> Any:
        out = self.model(batch)
        if len(self.full) < len(batch):
            self.full = np.repeat(self.img[None], len(batch), axis=0)
        ready = self.full[: len(batch)]
        t = time.perf_counter()
        self.model(ready)
        self.bare_s += time.perf_counter() - t
        return out
