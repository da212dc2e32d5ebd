"""Captioners as PAMI models: one output column per token of a fixed caption.

The user gives ``fn(images, tokens) -> (B, T)``: for a batch of images (B×H×W×3 float32 in [0, 1])
and the T tokens of one fixed caption, the probability the captioner gives each token (teacher
forcing: token t given the image and tokens < t). Every column is a PAMI target, so one set of
queries gives one image map per word (the engine aggregates all targets from the same outputs).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from peephole.errors import ModelError
from peephole.models.text.tokenize import words

TokenProbFn = Callable[[np.ndarray, list[str]], Any]


class CaptionModel:
    """``images -> (B, T)`` probabilities of the tokens of ``caption``; ``class_names`` are the tokens."""

    output = "probs"
    modality = "image"
    explain_every_class = True  #: every token of the caption is a target unless the user picks some

    def __init__(self, fn: TokenProbFn, caption: str | Sequence[str], batch_size: int | None = None) -> None:
        self.fn = fn
        self.tokens = words(caption)
        self.class_names = list(self.tokens)
        self.preferred_batch_size = batch_size

    def __call__(self, batch: np.ndarray) -> np.ndarray:
        out = self.fn(batch, list(self.tokens))
        if hasattr(out, "detach"):
            out = out.detach().cpu().numpy()
        out = np.asarray(out, dtype=np.float64)
        if out.ndim != 2 or out.shape[1] != len(self.tokens):
            raise ModelError(
                f"the captioner returned shape {out.shape} for {len(batch)} images and a caption of "
                f"{len(self.tokens)} tokens; expected ({len(batch)}, {len(self.tokens)})"
            )
        return out
