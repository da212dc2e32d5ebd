"""What every method does first: resolve the model, the input and the targets — written once.

A :class:`Request` is what the user asked for (``peephole.explain``'s arguments, the modality
resolved). :func:`prepare` turns it into a :class:`Context` for a perturbation method: the wrapped
model behind a query counter, the validated input, ``f(x)`` (one query), the targets and the batch
size. What the model's output means is the task's (:mod:`peephole.tasks`): it gives the reference, checks the
targets (classification: :func:`resolve_targets`, the one place class targets are checked) and scores every batch.
"""

from __future__ import annotations

import json
import warnings
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from peephole.core.options import SEED_LIMIT, check_call, fits, require
from peephole.core.partition import MAX_PARTS
from peephole.core.query import MAX_BATCH_BYTES, OUTPUT_KINDS, Query
from peephole.errors import ModelError
from peephole.result import Explanation
from peephole.tasks import Task, declared_task, get_task
from peephole.tasks.classification import check_targets, resolve_targets

__all__ = [
    "Context",
    "Request",
    "build",
    "check_arguments",
    "check_function_options",
    "check_seed",
    "jsonable",
    "prepare",
    "resolve_targets",
    "resolve_task",
]


#: How many of the top predicted classes are explained when no targets are given: the same in the API,
#: ``peephole.run`` and every command (each target costs its own maps; the first is the prediction).
DEFAULT_TOP_K = 1


@dataclass(frozen=True)
class Request:
    """One call of ``peephole.explain``: the model and input as given, the options every method shares."""

    model: Any
    input: Any
    modality: Any  #: a :class:`peephole.modalities.Modality`
    targets: Any = None  #: class index or name, a list of them, or None (the ``top_k`` predicted)
    top_k: int = DEFAULT_TOP_K
    batch_size: int | None = None
    seed: int = 0
    progress: bool = False
    output: str | None = None  #: what a plain callable / torch module returns: 'probs', 'logits', 'scores'
    class_names: Sequence[str] | None = None
    allow_large: bool = False  #: explain an input above the modality's maximum work size as it is
    task: Any = None  #: a name in :data:`peephole.tasks.TASKS` or a Task; None: the model's, else classification
    device: Any = None  #: where a torch model runs (None: where its parameters are); the module is never moved

    def __post_init__(self) -> None:
        check_arguments(
            self.targets, self.top_k, self.batch_size, self.seed, self.progress, self.output, self.class_names, self.allow_large
        )


def check_function_options(method: Any, options: dict[str, Any]) -> None:
    """A method that is a function (not a :class:`~peephole.methods.base.PerturbationMethod`, whose ``settings`` check
    its options): ``options`` checked against its keyword arguments' annotated types."""
    if not hasattr(method, "settings"):
        check_call(method, options)


def check_seed(seed: Any) -> None:
    """One :class:`InputError` unless ``seed`` is an integer (Python's or numpy's, not a bool) in [0, 2**63)."""
    require("seed", seed, "an integer with 0 <= seed < 2**63", lambda v: fits(v, int) and 0 <= v < SEED_LIMIT)


def check_arguments(
    targets: Any, top_k: Any, batch_size: Any, seed: Any, progress: Any, output: Any, class_names: Any, allow_large: Any = False
) -> None:
    """One :class:`InputError` naming the first of ``peephole.explain``'s own arguments whose type or range is
    wrong, its value and what is valid (the method's options are checked by the method)."""
    check_seed(seed)
    require("top_k", top_k, ">= 1 (an integer)", lambda v: fits(v, int) and v >= 1)
    require(
        "batch_size",
        batch_size,
        f"in [1, {MAX_PARTS}] (an integer, or None)",
        lambda v: v is None or (fits(v, int) and 1 <= v <= MAX_PARTS),
    )
    require("progress", progress, "True or False", lambda v: fits(v, bool))
    require("allow_large", allow_large, "True or False", lambda v: fits(v, bool))
    require("output", output, f"None or one of {', '.join(map(repr, OUTPUT_KINDS))}", lambda v: v is None or v in OUTPUT_KINDS)
    require(
        "class_names",
        class_names,
        "None or a list of strings (one name per class)",
        lambda v: v is None or (isinstance(v, (list, tuple)) and all(isinstance(n, str) for n in v)),
    )
    check_targets(targets)


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
    task: Task | None = None  #: the task bound to the model (None: classification)

    @property
    def modality(self) -> Any:
        return self.request.modality

    @property
    def reference(self) -> np.ndarray:
        """``f_k(x)`` of every target."""
        return self.probabilities[self.targets]

    def explanation(self, method: str, maps: np.ndarray, scores: np.ndarray, **fields: Any) -> Explanation:
        """The result of ``method``: its maps and per-query outputs plus what was resolved here (the task's extras
        with the method's)."""
        fields["extras"] = {**(self.task.extras() if self.task is not None else {}), **fields.get("extras", {})}
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
            **{"task": self.task.name if self.task is not None else "classification", **fields},
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
    """The one builder of :class:`Explanation`: float32 arrays, JSON-safe params, checked map shapes; maps that are
    not finite in float32 (scores so large their sums overflow) are a :class:`ModelError`."""
    probs = np.asarray(probabilities, np.float32)
    with np.errstate(over="ignore", invalid="ignore"):
        maps = np.asarray(maps, np.float32)
    if not np.isfinite(maps).all():
        top = float(np.abs(np.asarray(scores, np.float64)).max()) if scores is not None and np.size(scores) else float("nan")
        raise ModelError(
            f"the {method} maps are not finite in float32: the model's scores (up to {top:.3g}) overflow when aggregated; "
            "rescale the model's scores (e.g. divide them by a constant)"
        )
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


def resolve_task(req: Request, model: Any = None) -> Task:
    """The task of ``req``: ``req.task``, else what the model (as given, else its adapter) declares, else
    classification; bound to the wrapped ``model`` when one is given."""
    name = req.task
    if name is None:
        name = declared_task(req.model) or (declared_task(model) if model is not None else None)
    task = get_task(name)
    return task.bind(model) if model is not None else task


def reference_scorer(model: Any, task: str = "classification") -> Any:
    """A function of a model batch of ONE input giving the ``task``'s reference of ``model``'s output on it
    (classification: the class probabilities), one query per call; ``model``: a :class:`peephole.models.Model`."""
    t = get_task(task).bind(model)
    query = Query(model, t.validate)
    return lambda batch: t.reference(query(batch, what="an extra input"))


def fitting_batch(batch: int, input_bytes: int) -> int:
    """``batch``, or as many inputs of ``input_bytes`` as :data:`MAX_BATCH_BYTES` holds (at least one), with a
    warning; the maps do not depend on the batch size, only memory and speed do."""
    if input_bytes <= 0 or batch * input_bytes <= MAX_BATCH_BYTES:
        return batch
    fit = max(1, MAX_BATCH_BYTES // input_bytes)
    warnings.warn(
        f"batch_size {batch} would give the model {batch * input_bytes / 2**30:.1f} GiB of inputs per call; using {fit} "
        f"({MAX_BATCH_BYTES / 2**30:.0f} GiB at most)",
        UserWarning,
        stacklevel=4,
    )
    return fit


def prepare(req: Request) -> Context:
    """Wrap the model, validate the input, query f(x) once (1 query) and resolve the targets (all by the task)."""
    from peephole.models.base import use_device

    mod = req.modality
    given = resolve_task(req)  # an unknown task fails before the model is loaded
    model = mod.as_model(given.adapt(req.model), req.output, req.class_names)
    use_device(model, req.device)
    task = resolve_task(req, model)
    x = mod.load(req.input, allow_large=req.allow_large)
    query = Query(model, task.validate)
    probs = task.reference(query(mod.batch_of_one(x), what=f"the unperturbed {mod.name}"))
    names = list(model.class_names) if getattr(model, "class_names", None) is not None else None
    wanted = list(range(len(probs))) if req.targets is None and getattr(model, "explain_every_class", False) else req.targets
    targets = task.targets(probs, wanted, req.top_k, names)
    query.score = task.scorer(probs, targets)
    batch = req.batch_size
    if batch is None:
        batch = getattr(model, "preferred_batch_size", None) or mod.default_batch_size(x)
    batch = fitting_batch(int(batch), int(getattr(x, "nbytes", 0) or 0))
    return Context(req, model, query, x, probs, targets, int(batch), task.output_names(names), task)
