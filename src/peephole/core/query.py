"""Querying the black box: batched calls, a query counter, copies both ways; what the output means is the task's.

:class:`Query` knows no task: it calls the model, counts the inputs, converts tensors to NumPy and hands the
raw output to the ``validate`` and ``score`` functions a task gives it (:mod:`peephole.tasks`). ``softmax`` and
``OUTPUT_KINDS`` (what a model adapter may declare it returns) are the vocabulary the classification task reads.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from peephole.errors import ModelError

#: Output kinds a model may declare. ``probs``: class probabilities in [0, 1] (used as they are);
#: ``logits``: softmax is applied; ``scores``: any real-valued scores, used as they are.
OUTPUT_KINDS = ("probs", "logits", "scores")
#: The most bytes of perturbed inputs one model call is given: a batch size beyond it is cut to fit, with a warning
#: (:func:`peephole.pipeline.fitting_batch`; 50,176 occlusion windows of a 224×224 photo at batch_size=100000 asked
#: for 28 GiB at once), and packed inputs' batches are not joined past it (:mod:`peephole.core.pack`)
MAX_BATCH_BYTES = 2 * 2**30

#: ``validate(raw, n, what)``: the model's raw output on ``n`` inputs (tensors already NumPy) -> the checked
#: output, or a :class:`~peephole.errors.ModelError` naming ``what`` was queried.
Validate = Callable[[Any, int, str], Any]
#: ``score(checked, what)``: a checked batch output -> ``(B, C)`` float64 scores, one column per explainable output.
Score = Callable[[Any, str], np.ndarray]


def softmax(z: np.ndarray) -> np.ndarray:
    z = z - z.max(axis=1, keepdims=True)
    e = np.exp(z)
    return e / e.sum(axis=1, keepdims=True)


#: dtype kinds NumPy converts to float64 without their values being numbers: the imaginary part would be dropped,
#: dates and durations would become counts of their unit, records their first field
NOT_NUMBERS = {"c": "complex numbers", "M": "dates", "m": "durations", "V": "records"}


def real_numbers(raw: Any) -> np.ndarray:
    """``raw`` as a new float64 array; TypeError/ValueError where it holds no real numbers (:data:`NOT_NUMBERS`
    included: NumPy would convert those silently)."""
    a = np.asarray(raw)
    if a.dtype.kind in NOT_NUMBERS:
        raise TypeError(f"{NOT_NUMBERS[a.dtype.kind]} ({a.dtype}) are not real numbers")
    return np.array(a, dtype=np.float64, copy=True)


def as_array(raw: Any, n: int, what: str) -> np.ndarray:
    """The task-free check (``Query``'s default ``validate``): a finite float64 array with ``n`` rows (a 1-D output
    of one input is its one row)."""
    try:
        out = real_numbers(raw)
    except (TypeError, ValueError) as exc:
        raise ModelError(f"the model returned {type(raw).__name__}, not an array of numbers on {what}: {exc}") from exc
    if out.ndim == 1 and n == 1:
        out = out[None]
    if out.ndim == 0 or out.shape[0] != n:
        raise ModelError(f"the model returned shape {tuple(out.shape)} for {n} inputs on {what}")
    bad = ~np.isfinite(out.reshape(n, -1)).all(axis=1)
    if bad.any():
        raise ModelError(f"the model returned NaN or inf for {int(bad.sum())} of {n} inputs on {what}")
    return out


class Query:
    """Calls ``model`` on batches; returns ``score(validate(output))`` (``validate(output)`` while ``score`` is None).

    Every input passed to the model counts as one query (``n_queries``), so tests and reports
    can prove how many forward passes a method needed. The model gets a copy of each batch (a model
    that normalises its input in place cannot rewrite the explained input) and its output is copied
    (a model that reuses its output buffer cannot change scores already returned). ``validate`` and
    ``score`` come from the task (:meth:`peephole.tasks.Task.validate`, :meth:`peephole.tasks.Task.scorer`);
    :func:`peephole.pipeline.prepare` sets ``score`` once the task has seen the unperturbed output. Without a
    ``validate``, outputs are checked as numbers only (:func:`as_array`: no softmax, no class checks).
    """

    def __init__(self, model: Callable[[Any], Any], validate: Validate | None = None, score: Score | None = None) -> None:
        if validate is None:
            validate = as_array
        if not callable(validate):
            raise TypeError(
                f"validate must be a task's validator (callable), got {type(validate).__name__} {validate!r}; for a "
                "classifier's declared output use peephole.tasks.Classification(output).query(model)"
            )
        self.model = model
        self.validate = validate
        self.score = score
        self.n_queries = 0
        self.n_classes: int | None = None  #: the number of score columns last returned

    def __call__(self, batch: Any, what: str = "batch") -> Any:
        out = self.validate(self.raw(batch, what), len(batch), what)
        if self.score is None:
            return out
        scores = self.score(out, what)
        self.n_classes = int(scores.shape[1])
        return scores

    def raw(self, batch: Any, what: str = "batch") -> Any:
        """The model's output on ``batch`` (counted; tensors detached, moved to the CPU, as NumPy copies)."""
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
        try:
            return to_numpy(raw)
        except Exception as exc:  # e.g. a tensor that cannot leave its device (meta)
            raise ModelError(f"the model's output on {what} cannot be read: {type(exc).__name__}: {exc}") from exc


def to_numpy(raw: Any) -> Any:
    """``raw`` with every tensor (anything with ``detach``) and array copied to a NumPy array on the CPU; lists,
    tuples and dicts converted item by item; anything else as it is."""
    if hasattr(raw, "detach"):  # torch tensor, without importing torch
        t = raw.detach().cpu()
        return (t.float() if str(t.dtype) in ("torch.bfloat16", "torch.float16") else t).numpy().copy()
    if isinstance(raw, np.ndarray):
        return raw.copy()
    if isinstance(raw, dict):
        return {k: to_numpy(v) for k, v in raw.items()}
    if isinstance(raw, (list, tuple)):
        return type(raw)(to_numpy(v) for v in raw) if type(raw) in (list, tuple) else raw
    return raw
