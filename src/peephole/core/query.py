"""Querying the black box: batched calls, output validation, a query counter."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from peephole.errors import ModelError

#: Output kinds a model may declare. ``probs``: class probabilities in [0, 1] (used as they are);
#: ``logits``: softmax is applied; ``scores``: any real-valued scores, used as they are.
OUTPUT_KINDS = ("probs", "logits", "scores")


def softmax(z: np.ndarray) -> np.ndarray:
    z = z - z.max(axis=1, keepdims=True)
    e = np.exp(z)
    return e / e.sum(axis=1, keepdims=True)


class Query:
    """Calls ``model`` on batches and returns validated ``(B, K)`` float64 scores.

    Every input passed to the model counts as one query (``n_queries``), so tests and reports
    can prove how many forward passes a method needed. The model gets a copy of each batch (a model
    that normalises its input in place cannot rewrite the explained input) and its output is copied
    (a model that reuses its output buffer cannot change scores already returned).
    """

    def __init__(self, model: Callable[[Any], Any], output: str = "probs") -> None:
        if output not in OUTPUT_KINDS:
            raise ValueError(f"output must be one of {OUTPUT_KINDS}, got {output!r}")
        self.model = model
        self.output = output
        self.n_queries = 0
        self.n_classes: int | None = None

    def __call__(self, batch: Any, what: str = "batch") -> np.ndarray:
        n = len(batch)
        if isinstance(batch, np.ndarray) and not batch.flags.owndata:  # a view (e.g. of the explained input): the
            batch = batch.copy()  # model may write into it; a masker's fresh buffer is the model's to keep
        elif isinstance(batch, list):
            batch = list(batch)
        try:
            raw = self.model(batch)
        except Exception as exc:  # the model is a black box: name it, keep the cause
            raise ModelError(f"the model raised {type(exc).__name__} on {what}: {exc}") from exc
        self.n_queries += n
        out = _to_numpy(raw)
        if out.ndim == 1 and n == 1:
            out = out[None]
        if out.ndim != 2 or out.shape[0] != n:
            raise ModelError(f"the model returned shape {tuple(out.shape)} for {n} inputs on {what}; expected ({n}, n_classes)")
        if out.shape[1] == 0:
            raise ModelError(f"the model returned no classes (shape {tuple(out.shape)}) on {what}")
        if self.n_classes is not None and out.shape[1] != self.n_classes:
            raise ModelError(f"the model returned {out.shape[1]} classes on {what} but {self.n_classes} before")
        self.n_classes = out.shape[1]
        bad = ~np.isfinite(out).all(axis=1)
        if bad.any():
            raise ModelError(f"the model returned NaN or inf for {int(bad.sum())} of {n} inputs on {what}")
        if self.output == "logits":
            return softmax(out)
        if self.output == "probs" and (out.min() < -1e-6 or out.max() > 1 + 1e-6):
            raise ModelError(
                f"the model was declared to return probabilities but returned values in "
                f"[{out.min():.3g}, {out.max():.3g}] on {what}; declare output='logits' or 'scores'"
            )
        return out


def _to_numpy(raw: Any) -> np.ndarray:
    if hasattr(raw, "detach"):  # torch tensor, without importing torch
        raw = raw.detach().cpu().numpy()
    try:
        return np.array(raw, dtype=np.float64, copy=True)
    except (TypeError, ValueError) as exc:
        raise ModelError(f"the model returned {type(raw).__name__}, not an array of scores") from exc
