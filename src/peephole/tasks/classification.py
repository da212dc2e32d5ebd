"""Classification: the model returns ``(N, n_classes)`` scores; a target is a class; its score is the class's.

What the model returns is declared (``output``): ``'probs'`` (class probabilities in [0, 1], used as they
are), ``'logits'`` (softmax is applied) or ``'scores'`` (any real values, used as they are). Peephole never
guesses between them.
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from typing import Any

import numpy as np

from peephole.core.classes import class_named
from peephole.core.query import OUTPUT_KINDS, Query, real_numbers, softmax
from peephole.errors import InputError, ModelError
from peephole.tasks.base import Scorer, Task

FLOAT32_MAX = float(np.finfo(np.float32).max)


class Classification(Task):
    """Today's Peephole: explain classes of a classifier; ``Explanation.probabilities`` are the class scores."""

    name = "classification"

    def __init__(self, output: str = "probs") -> None:
        if output not in OUTPUT_KINDS:
            raise ValueError(f"output must be one of {OUTPUT_KINDS}, got {output!r}")
        self.output = output

    def bind(self, model: Any) -> Classification:
        return Classification(getattr(model, "output", self.output))

    def validate(self, raw: Any, n: int, what: str) -> np.ndarray:
        """``(n, K)`` finite float64 scores, probabilities in range; a 1-D output is one row (one input) or one
        column (``n`` inputs: one output each); one column of logits or probabilities becomes two classes."""
        several = several_outputs(raw, n)
        if several:
            raise ModelError(
                f"the model returned {several} on {what}; Peephole reads one ({n}, n_classes) array of scores: return "
                "the one to explain (a function calling the model and taking [0] or ['logits'])"
            )
        out = numbers_of(raw, what, "an array of scores")
        if out.ndim == 1 and n == 1:
            out = out[None]
        elif out.ndim == 1 and len(out) == n:
            out = out[:, None]
        if out.ndim != 2 or out.shape[0] != n:
            raise ModelError(f"the model returned shape {tuple(out.shape)} for {n} inputs on {what}; expected ({n}, n_classes)")
        if out.shape[1] == 0:
            raise ModelError(f"the model returned no classes (shape {tuple(out.shape)}) on {what}")
        bad = ~np.isfinite(out).all(axis=1)
        if bad.any():
            raise ModelError(f"the model returned NaN or inf for {int(bad.sum())} of {n} inputs on {what}")
        return two_classes(in_range(out, self.output, what), self.output)

    def scores(self, out: np.ndarray) -> np.ndarray:
        """Checked ``(B, K)`` outputs as class scores: softmax of logits, probabilities and scores as they are."""
        return softmax(out) if self.output == "logits" else out

    def reference(self, out: np.ndarray) -> np.ndarray:
        """The class scores of the unperturbed input; a warning when 'logits' look like probabilities already (in
        [0, 1], summing to 1): their softmax is nearly uniform, and every map would explain a flattened score."""
        row = out[0]
        if self.output == "logits" and len(row) > 1 and row.min() >= 0 and row.max() <= 1 and abs(row.sum() - 1) < 1e-4:
            warnings.warn(
                "the model was declared to return logits, but its output on the unperturbed input is a probability "
                f"vector (in [0, 1], summing to 1): softmax would flatten it (top score {row.max():.3f} -> "
                f"{softmax(out[:1])[0].max():.3f}); declare output='probs'",
                stacklevel=2,
            )
        return self.scores(out)[0]

    def targets(
        self,
        reference: np.ndarray,
        targets: Any,
        top_k: int,
        class_names: Sequence[str] | None,
        default: Sequence[int] | None = None,
    ) -> list[int]:
        if class_names is not None and len(class_names) != len(reference):
            binary = " (a one-output model is explained as two classes, [1 - p, p]: name both)" if len(reference) == 2 else ""
            raise ModelError(
                f"the model returned {len(reference)} classes but names {len(class_names)}: {list(class_names)[:5]}{binary}"
            )
        return resolve_targets(reference, targets, top_k, class_names, default)

    def scorer(self, reference: np.ndarray | None = None, targets: Sequence[int] | None = None) -> Scorer:
        """All ``K`` class scores of a batch (targets are class indices: columns); a model whose number of
        classes changes from the reference's (or, without one, from its first batch's) is a ModelError."""
        expected = [None if reference is None else len(reference)]

        def score(out: np.ndarray, what: str = "batch") -> np.ndarray:
            if expected[0] is not None and out.shape[1] != expected[0]:
                raise ModelError(f"the model returned {out.shape[1]} classes on {what} but {expected[0]} before")
            expected[0] = out.shape[1]
            return self.scores(out)

        return score

    def query(self, model: Any) -> Query:
        """A :class:`Query` returning ``(B, K)`` class scores of every batch (no reference needed)."""
        return Query(model, self.validate, self.scorer())

    def __repr__(self) -> str:
        return f"Classification(output={self.output!r})"


def numbers_of(raw: Any, what: str, expected: str) -> np.ndarray:
    """``raw`` as a float64 array of real numbers; a :class:`ModelError` saying it is not ``expected`` otherwise."""
    try:
        return real_numbers(raw)
    except (TypeError, ValueError) as exc:
        hint = PIPELINE_HINT if _pipeline_output(raw) else ""
        raise ModelError(f"the model returned {type(raw).__name__}, not {expected} on {what}: {exc}{hint}") from exc


PIPELINE_HINT = (
    " (a transformers pipeline's [{'label': ..., 'score': ...}] per input: pass the pipeline itself, which Peephole "
    "reads, or return an (N, n_classes) array)"
)


def several_outputs(raw: Any, n: int) -> str | None:
    """What ``raw`` is when it holds several outputs of the model instead of one batch of scores (a dict, or a tuple or
    list of arrays that are no ``n`` rows alike: a module's ``(logits, features)``), else None."""
    if isinstance(raw, dict):
        keys = ", ".join(repr(k) for k in list(raw)[:4]) + (", ..." if len(raw) > 4 else "")
        return f"a dict of {len(raw)} outputs ({keys})"
    if not isinstance(raw, (tuple, list)) or not raw or not all(isinstance(v, np.ndarray) for v in raw):
        return None
    shapes = [v.shape for v in raw]
    if len(raw) == n and len(set(shapes)) == 1 and len(shapes[0]) <= 1:  # one row per input
        return None
    shown = ", ".join(str(s) for s in shapes[:4]) + (", ..." if len(shapes) > 4 else "")
    return f"a {type(raw).__name__} of {len(raw)} arrays (shapes {shown})"


def _pipeline_output(raw: Any) -> bool:
    """Whether ``raw`` looks like a transformers pipeline's output: dicts with a label and a score."""
    try:
        flat = np.asarray(raw, dtype=object).ravel()
    except (TypeError, ValueError):
        return False
    return bool(flat.size) and isinstance(flat[0], dict) and {"label", "score"} <= set(flat[0])


def in_range(out: np.ndarray, output: str, what: str) -> np.ndarray:
    """``out`` when its values fit what it is declared to be: probabilities in [0, 1], scores within float32 (in
    which maps are kept); a :class:`ModelError` naming the fix otherwise."""
    if output == "probs" and (out.min() < -1e-6 or out.max() > 1 + 1e-6):
        raise ModelError(
            f"the model was declared to return probabilities but returned values in "
            f"[{out.min():.3g}, {out.max():.3g}] on {what}; declare output='logits' or 'scores'"
        )
    if output == "scores" and np.abs(out).max() > FLOAT32_MAX:
        raise ModelError(
            f"the model returned scores up to {np.abs(out).max():.3g} on {what}, beyond float32 (±{FLOAT32_MAX:.3g}) "
            "in which maps are kept; rescale its scores (or declare output='logits' if they are logits)"
        )
    return out


def two_classes(out: np.ndarray, output: str) -> np.ndarray:
    """One class along axis 1 as two (binary): one logit z -> logits [0, z], one probability p -> [1 - p, p];
    scores, and more classes, as they are."""
    if out.shape[1] != 1 or output == "scores":
        return out
    return np.concatenate([np.zeros_like(out), out] if output == "logits" else [1 - out, out], axis=1)


def classification_query(model: Any, output: str | None = None) -> Query:
    """A :class:`Query` of ``model``'s ``(B, K)`` class scores; ``output`` defaults to what the model declares."""
    return Classification(output or getattr(model, "output", "probs")).query(model)


TARGETS = "a class index or name, a list of them, or None (the top_k predicted)"


def check_targets(targets: Any) -> None:
    """One :class:`InputError` unless ``targets`` is None, a class index (an integer, not a bool) or name, or a
    non-empty list of them (None inside a list is refused)."""
    if targets is None:
        return
    if isinstance(targets, np.ndarray) and targets.ndim != 1:
        raise InputError(f"targets must be {TARGETS}, got an array of shape {targets.shape}")
    items = list(targets) if isinstance(targets, (list, tuple, np.ndarray)) else [targets]
    if not items:
        raise InputError(f"targets is empty; it must be {TARGETS}")
    for t in items:
        if isinstance(t, (bool, np.bool_)) or not isinstance(t, (str, int, np.integer)):
            raise InputError(f"targets must be {TARGETS}; got {t!r} ({type(t).__name__}) in {targets!r}")


def resolve_targets(
    probabilities: np.ndarray,
    targets: Any,
    top_k: int,
    class_names: Sequence[str] | None = None,
    default: Sequence[int] | None = None,
) -> list[int]:
    """Target class indices: given ones (indices or class names) checked against the model's classes,
    else ``default``, else the ``top_k`` highest-scoring classes."""
    k = len(probabilities)
    if targets is None:
        if default is not None:
            return [int(t) for t in default]
        if top_k < 1:
            raise InputError(f"top_k must be >= 1, got {top_k}")
        return [int(i) for i in np.argsort(-np.asarray(probabilities), kind="stable")[:top_k]]
    check_targets(targets)
    items = [targets] if isinstance(targets, str) or np.isscalar(targets) else list(targets)
    out = []
    for t in items:
        if isinstance(t, str):
            out.append(class_named(t, class_names))
        else:
            out.append(int(t))
    bad = [t for t in out if not 0 <= t < k]
    if bad:
        raise InputError(f"target class {bad[0]} is out of range: the model has {k} classes (0..{k - 1})")
    return out
