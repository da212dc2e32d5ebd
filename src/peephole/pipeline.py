"""What every method does first: resolve the model, the input and the targets — written once.

A :class:`Request` is what the user asked for (``peephole.explain``'s arguments, the modality
resolved). :func:`prepare` turns it into a :class:`Context` for a perturbation method: the wrapped
model behind a query counter, the validated input, ``f(x)`` (one query), the targets and the batch
size. :func:`resolve_targets` is the one place targets are checked, for every family of methods.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from peephole.core.query import Query
from peephole.errors import InputError, ModelError
from peephole.result import Explanation


@dataclass(frozen=True)
class Request:
    """One call of ``peephole.explain``: the model and input as given, the options every method shares."""

    model: Any
    input: Any
    modality: Any  #: a :class:`peephole.modalities.Modality`
    targets: Any = None  #: class index or name, a list of them, or None (the ``top_k`` predicted)
    top_k: int = 1
    batch_size: int | None = None
    seed: int = 0
    progress: bool = False
    output: str | None = None  #: what a plain callable / torch module returns: 'probs', 'logits', 'scores'
    class_names: Sequence[str] | None = None
    allow_large: bool = False  #: explain an input above the modality's maximum work size as it is


@dataclass
class Context:
    """A prepared request: what a perturbation method works with."""

    request: Request
    model: Any  #: a :class:`peephole.models.Model`
    query: Query
    x: Any  #: the validated input (H×W×3 float32 image, word list, array)
    probabilities: np.ndarray  #: (n_classes,) output on the unperturbed input
    targets: list[int]
    batch_size: int
    class_names: list[str] | None

    @property
    def modality(self) -> Any:
        return self.request.modality

    @property
    def reference(self) -> np.ndarray:
        """``f_k(x)`` of every target."""
        return self.probabilities[self.targets]

    def explanation(self, method: str, maps: np.ndarray, scores: np.ndarray, **fields: Any) -> Explanation:
        """The result of ``method``: its maps and per-query outputs plus what was resolved here."""
        return build(
            method,
            self.modality.name,
            self.x,
            maps,
            self.targets,
            self.probabilities,
            self.class_names,
            n_queries=self.query.n_queries,
            scores=scores,
            **fields,
        )


def build(
    method: str,
    modality: str,
    x: Any,
    maps: np.ndarray,
    targets: Sequence[int],
    probabilities: np.ndarray,
    class_names: Sequence[str] | None,
    n_queries: int,
    scores: np.ndarray | None = None,
    params: dict[str, Any] | None = None,
    **fields: Any,
) -> Explanation:
    """The one builder of :class:`Explanation`: float32 arrays, JSON-safe params, checked map shapes."""
    probs = np.asarray(probabilities, np.float32)
    maps = np.asarray(maps, np.float32)
    if len(maps) != len(targets):
        raise ValueError(f"{len(maps)} maps for {len(targets)} targets")
    return Explanation(
        method=method,
        modality=modality,
        input=x,
        maps=maps,
        targets=[int(t) for t in targets],
        probabilities=probs,
        class_names=list(class_names) if class_names is not None else None,
        n_queries=int(n_queries),
        scores=np.zeros((0, len(probs)), np.float32) if scores is None else np.asarray(scores, np.float32),
        params=jsonable(params or {}),
        **fields,
    )


def jsonable(value: Any) -> Any:
    """``value`` with every part JSON can't hold turned into numbers, lists or its name (params are data)."""
    if isinstance(value, dict):
        return {str(k): jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [jsonable(v) for v in value]
    if isinstance(value, np.ndarray):
        return value.tolist() if value.size <= 64 else f"array{value.shape}"
    if isinstance(value, np.generic):
        return value.item()
    try:
        json.dumps(value)
        return value
    except (TypeError, ValueError):
        return getattr(value, "name", None) if isinstance(getattr(value, "name", None), str) else type(value).__name__


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
    items = [targets] if isinstance(targets, str) or np.isscalar(targets) else list(targets)
    if not items:
        raise InputError("targets is empty")
    out = []
    for t in items:
        if isinstance(t, str):
            if class_names is None or t not in class_names:
                known = f"the model's classes are {list(class_names)[:20]}" if class_names else "the model names no classes"
                raise InputError(f"unknown class {t!r}; {known}")
            out.append(list(class_names).index(t))
        elif isinstance(t, (bool, np.bool_)) or not float(t).is_integer():
            raise InputError(f"a target must be a class index or name, got {t!r}")
        else:
            out.append(int(t))
    bad = [t for t in out if not 0 <= t < k]
    if bad:
        raise InputError(f"target class {bad[0]} is out of range: the model has {k} classes (0..{k - 1})")
    return out


def prepare(req: Request) -> Context:
    """Wrap the model, validate the input, query f(x) once (1 query) and resolve the targets."""
    mod = req.modality
    model = mod.as_model(req.model, req.output, req.class_names)
    x = mod.load(req.input, allow_large=req.allow_large)
    query = Query(model, model.output)
    probs = query(mod.batch_of_one(x), what=f"the unperturbed {mod.name}")[0]
    names = list(model.class_names) if getattr(model, "class_names", None) is not None else None
    if names is not None and len(names) != len(probs):
        raise ModelError(f"the model returned {len(probs)} classes but names {len(names)}: {names[:5]}")
    every = list(range(len(probs))) if getattr(model, "explain_every_class", False) else None
    targets = resolve_targets(probs, req.targets, req.top_k, names, default=every)
    batch = req.batch_size
    if batch is None:
        batch = getattr(model, "preferred_batch_size", None) or mod.default_batch_size(x)
    elif batch < 1:
        raise InputError(f"batch_size must be >= 1, got {batch}")
    return Context(req, model, query, x, probs, targets, int(batch), names)
