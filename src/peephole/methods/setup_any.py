"""What every non-image method does first: wrap the model, query f(x) once, check targets and class names."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, TypeVar

import numpy as np

from peephole.engine.query import Query
from peephole.errors import InputError, ModelError
from peephole.explanation import Explanation
from peephole.models.base import Model

E = TypeVar("E", bound=Explanation)


@dataclass
class Prepared:
    model: Model
    query: Query
    probabilities: np.ndarray  #: (n_classes,) output on the unperturbed input
    targets: list[int]
    batch_size: int
    class_names: list[str] | None

    def explanation(self, cls: type[E], method: str, input: Any, maps: np.ndarray, scores: np.ndarray, **fields: Any) -> E:
        """``method``'s result as a ``cls``: its maps and per-query scores plus what was resolved here."""
        fields.setdefault("class_names", self.class_names)
        return cls(
            maps=maps,
            targets=self.targets,
            probabilities=self.probabilities.astype(np.float32),
            scores=scores,
            n_queries=self.query.n_queries,
            input=input,
            method=method,
            **fields,
        )


def prepare_any(
    model: Model,
    one: Any,
    targets: int | Sequence[int] | None,
    top_k: int,
    batch_size: int | None,
    what: str = "the unperturbed input",
    default_batch: int = 64,
) -> Prepared:
    """Query ``model`` on the batch ``one`` (holding the unperturbed input) and resolve the targets."""
    query = Query(model, model.output)
    probs = query(one, what=what)[0]
    k = probs.shape[0]
    names = list(model.class_names) if model.class_names is not None else None
    if names is not None and len(names) != k:
        raise ModelError(f"the model returned {k} classes but names {len(names)}: {names[:5]}")
    if targets is None:
        if top_k < 1:
            raise InputError(f"top_k must be >= 1, got {top_k}")
        tlist = [int(i) for i in np.argsort(-probs, kind="stable")[:top_k]]
    else:
        tlist = [int(targets)] if np.isscalar(targets) else [int(t) for t in targets]
        if not tlist:
            raise InputError("targets is empty")
        bad = [t for t in tlist if not 0 <= t < k]
        if bad:
            raise InputError(f"target class {bad[0]} is out of range: the model has {k} classes (0..{k - 1})")
    if batch_size is None:
        batch_size = model.preferred_batch_size or default_batch
    elif batch_size < 1:
        raise InputError(f"batch_size must be >= 1, got {batch_size}")
    return Prepared(model, query, probs, tlist, int(batch_size), names)


def resolve_target_names(targets: Any, names: Sequence[str] | None) -> Any:
    """Allow targets by class name (``targets='positive'``) when the model names its classes."""
    if targets is None or names is None:
        return targets
    items = [targets] if isinstance(targets, str) or np.isscalar(targets) else list(targets)
    out = []
    for t in items:
        if isinstance(t, str):
            if t not in names:
                raise InputError(f"unknown class {t!r}; the model's classes are {list(names)}")
            out.append(list(names).index(t))
        else:
            out.append(t)
    return out
