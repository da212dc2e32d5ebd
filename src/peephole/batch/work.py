"""One item of a run, the same on every engine: load the input, explain it, score it, make its table row."""

from __future__ import annotations

import importlib
import inspect
import time
import warnings
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np

from peephole.core.classes import classes_named
from peephole.errors import InputError, NothingToExplain, PeepholeError
from peephole.modalities.items import BadRow, Item
from peephole.result import Explanation
from peephole.store.runs import file_stamp
from peephole.terminal import storable

TARGETS = ("predicted", "true")
METRICS = ("insertion", "deletion")
TOP = 5  #: top classes kept in each item's row


@dataclass(frozen=True)
class Job:
    """The settings of a run: everything that decides an item's result (recorded in and checked by the store)."""

    method: str
    model: str  #: the model's name, ``module:factory`` spec, or a name given for a model object
    modality: str  #: the name of a modality (peephole.modalities.MODALITIES)
    dataset: str
    options: dict[str, Any] = field(default_factory=dict)
    targets: Any = "predicted"  #: 'predicted' (the top_k classes), 'true' (the item's label) or class indices
    top_k: int = 1
    seed: int = 0
    batch_size: int | None = None
    size: int | None = 224  #: where the modality resizes (images): shorter side to this, centre-cropped (None: as read)
    crop: bool = True
    metrics: tuple[str, ...] = ()
    output: str | None = None  #: what a plain callable returns ('probs', 'logits', 'scores')
    task: Any = None  #: a name in peephole.tasks.TASKS or a Task; None: what the model declares, else classification
    queries: list[str] | None = None  #: what a text-prompted model's folder tells apart or finds (CLIP, OWL-ViT, NLI)
    template: str | None = None  #: the prompt each query goes into (CLIP, SigLIP, NLI)

    def settings(self) -> dict[str, Any]:
        """The recorded settings; ``task``, ``queries`` and ``template`` only when given (a Task object by its repr,
        which holds its settings)."""
        from peephole.pipeline import jsonable
        from peephole.version import __version__

        d = asdict(self)
        task, queries, template = d.pop("task"), d.pop("queries"), d.pop("template")
        if task is not None:
            d["task"] = task if isinstance(task, str) else repr(task)
        if queries is not None:
            d["queries"] = list(queries)
        if template is not None:
            d["template"] = template
        return jsonable({**d, "peephole": __version__})

    def loader(self) -> dict[str, Any]:
        """The settings a model named by the run is loaded with (its queries and template)."""
        given = {"queries": None if self.queries is None else list(self.queries), "template": self.template}
        return {k: v for k, v in given.items() if v is not None}


def check_job(job: Job) -> None:
    """Refuse settings that cannot work before any item runs (one :class:`InputError` each)."""
    from peephole.core.options import require_count
    from peephole.modalities import get_modality
    from peephole.pipeline import check_arguments
    from peephole.registry import get_method
    from peephole.tasks import get_task
    from peephole.tasks.classification import check_targets

    # the run-wide arguments every item would pass to peephole.explain: one error now, not one failed item each
    check_arguments(None, job.top_k, job.batch_size, job.seed, True, job.output, None)
    require_count("size", job.size, 1)  # None keeps the size
    spec = get_method(job.method)
    spec.check(job.options, get_modality(job.modality))
    if job.task is not None:
        spec.check_task(get_task(job.task).name)
    if isinstance(job.targets, str) and job.targets not in TARGETS:
        raise InputError(f"targets must be one of {TARGETS} or a list of class indices, got {job.targets!r}")
    if not isinstance(job.targets, str):  # a list: empty or negative would fail every item the same way
        check_targets(job.targets)
        negative = [t for t in job.targets if not isinstance(t, str) and t < 0]
        if negative:
            raise InputError(f"target class {negative[0]} is negative: class indices start at 0")
    bad = sorted(set(job.metrics) - set(METRICS))
    if bad:
        raise InputError(f"unknown metric {bad[0]!r}; per-item metrics: {', '.join(METRICS)}")
    for m in job.metrics:  # the modality says whether it has curves (an InputError naming it when not)
        get_modality(job.modality).curve_masker(m)


def check_not_arguments(keys: Iterable[str], function: Callable[..., Any], flags: Mapping[str, str]) -> None:
    """Refuse a method option named like one of ``function``'s own arguments (``out``, ``targets``, ``model``...),
    which a command passes itself: one :class:`InputError` saying how to set it (``flags``: argument -> flag)."""
    params = inspect.signature(function).parameters.values()
    own = {p.name for p in params if p.kind not in (p.VAR_POSITIONAL, p.VAR_KEYWORD)}
    for key in keys:
        if key in own:
            how = f"use {flags[key]}" if key in flags else "the command line does not set it"
            raise InputError(f"{key!r} is not a method option but an argument of peephole.{function.__name__}: {how}")


def modality_for(model: Any, modality: str | None = None) -> Any:
    """The :class:`~peephole.modalities.Modality` of a call: ``modality`` if given, else what ``model``
    declares, else the first of :data:`peephole.modalities.MODALITIES` (images), as :func:`peephole.explain`."""
    from peephole.modalities import MODALITIES, declared_modality, get_modality

    return get_modality(modality or declared_modality(model) or next(iter(MODALITIES)))


def resolve_model(
    spec: Any,
    modality: Any,
    output: str | None = None,
    class_names: Sequence[str] | None = None,
    loader: dict[str, Any] | None = None,
    task: Any = None,
) -> Any:
    """``spec`` as a :class:`peephole.models.Model` of ``modality`` (a name or a Modality), loaded once; for a
    ``task`` other than classification (given, or declared by ``spec``), adapted by it first (a detector callable).

    ``spec``: a model object or callable, a model name (``efficientnet-lite0``, ``vader``, an ``.onnx`` file,
    a Hugging Face folder; loaded by the modality with the ``loader`` settings) or ``'package.module:factory'``,
    a function of no arguments returning the model (how a model is named on the command line and rebuilt in
    each Ray actor).
    """
    from peephole.modalities import get_modality
    from peephole.tasks import declared_task, get_task

    mod = get_modality(modality)
    spec = built(spec)
    if isinstance(spec, str):
        spec = mod.named_model(spec, **(loader or {}))
    return mod.as_model(get_task(task if task is not None else declared_task(spec)).adapt(spec), output, class_names)


def built(spec: Any) -> Any:
    """What ``'package.module:factory'`` returns (the factory called with no arguments); any other ``spec`` as is. A
    module that cannot be imported (missing, or failing as it is: a SyntaxError), a factory that is no function, that
    raises or that returns None is one :class:`InputError` naming it (None would have meant the default model)."""
    if not (isinstance(spec, str) and ":" in spec and not spec.endswith(".onnx")):
        return spec
    module, _, attr = spec.partition(":")
    try:
        factory = getattr(importlib.import_module(module), attr)
    except Exception as exc:  # not found (ImportError, AttributeError), or the module's own error as it is imported
        raise InputError(f"cannot import model factory {spec} ({type(exc).__name__}: {exc})") from exc
    if not callable(factory):
        raise InputError(f"model factory {spec} is a {type(factory).__name__}, not a function of no arguments")
    try:
        model = factory()
    except Exception as exc:  # the user's code: one error naming it, the traceback kept as its cause
        raise InputError(f"model factory {spec} raised {type(exc).__name__}: {exc}") from exc
    if model is None:
        raise InputError(f"model factory {spec} returned None, not a model")
    return model


def model_and_modality(
    spec: Any, modality: str | None = None, output: str | None = None, loader: dict[str, Any] | None = None
) -> tuple[Any, Any]:
    """The :class:`~peephole.modalities.Modality` and the loaded model of a call that names a model (a name,
    a file, ``'package.module:factory'``): the kind is ``modality``, else what the (built) model declares, else
    the first modality; ``spec`` None: that modality's default model."""
    obj = built(spec)
    mod = modality_for(obj, modality)
    if obj is None:
        obj = mod.default_model
        if obj is None:
            raise InputError(f"{mod.name} inputs have no default model: name one")
    return mod, resolve_model(obj, mod, output, None, loader)


def model_id(spec: Any) -> str:
    """How a model is named in the run's settings: its spec string, else its type's import path."""
    if isinstance(spec, str):
        return spec
    t = spec if isinstance(spec, type) else type(spec)
    name = getattr(spec, "__qualname__", None) if callable(spec) and hasattr(spec, "__module__") else None
    return f"{getattr(spec, '__module__', t.__module__)}.{name or t.__qualname__}"


def load_input(item: Item, job: Job) -> Any:
    """The item's input as the method needs it (decoding happens here, ahead of the model's queries): read by
    the modality, at the run's work size where the modality has one."""
    from peephole.modalities import get_modality

    mod = get_modality(job.modality)
    return mod.load_item(item.source, size=job.size, crop=job.crop) if mod.resizes else mod.load_item(item.source)


def true_class(label: str | None, class_names: Sequence[str] | None, n_classes: int) -> int | None:
    """The class index a label names: an index (a number, even where a class is named by another number: with a
    warning), or the name of one of the model's classes; None when it names none, or a name several classes share
    (ImageNet's two 'crane's)."""
    if label is None:
        return None
    s = str(label).strip()
    if s.lstrip("-").isdigit() and 0 <= int(s) < n_classes:
        if any(i != int(s) for i in classes_named(s, class_names)):
            names = list(class_names or [])
            first = next(i for i, n in enumerate(names) if n.strip().isdigit() and int(n) != i)
            warnings.warn(
                f"the model's classes are named by numbers that are not their indices (class {first} is named "
                f"{names[first]!r}: a model trained on folders named by numbers, sorted as text?); "
                "a label that is a number is read as a class index, not a class name: if the labels mean the names, "
                "write each as its class's index",
                UserWarning,
                stacklevel=2,
            )
        return int(s)
    hits = classes_named(s, class_names)
    return hits[0] if len(hits) == 1 else None


def explain_item(
    model: Any, job: Job, item: Item, seq: int, x: Any = None, error: BaseException | None = None
) -> tuple[dict[str, Any], Explanation | None]:
    """Explain one item: its table row and its result (None when it failed or was skipped; the row says why).

    ``x`` is the input already loaded by :func:`load_input` (or ``error`` what loading raised). Every
    failure of this item — a corrupt file, a bad label, a model error — becomes its row's ``error``; an item with
    nothing to explain (:class:`~peephole.errors.NothingToExplain`: a detector found no boxes) is ``'skipped'``.
    """
    from peephole.api import explain

    row: dict[str, Any] = {
        "id": item.id,
        "seq": seq,
        "source": _source(item),
        "stamp": file_stamp(item.source),
        "label": item.label,
    }
    t0 = time.perf_counter()
    try:
        if error is not None:
            raise error
        if x is None:
            x = load_input(item, job)
        e, truth = _explain(explain, model, job, item, x)
    except NothingToExplain as exc:  # not a failure: the item holds no target (a detector found no boxes)
        row.update(status="skipped", error=str(exc), seconds=time.perf_counter() - t0)
        return row, None
    except Exception as exc:  # noqa: BLE001 - one item's failure of any kind is recorded, the run goes on
        message = str(exc) if isinstance(exc, PeepholeError) else f"{type(exc).__name__}: {exc}"
        row.update(status="failed", error=message or type(exc).__name__, seconds=time.perf_counter() - t0)
        return row, None
    pred = e.prediction
    row.update(
        status="done",
        error=None,
        true_class=truth,
        prediction=pred,
        prediction_name=e.name(pred),
        confidence=float(e.probabilities[pred]),
        correct=None if truth is None else int(pred == truth),
        targets=e.targets,
        top=[list(t) for t in e.top_classes(TOP)],
        n_queries=e.n_queries,
    )
    if job.metrics:
        row["metrics"] = _metrics(model, job, e)
    row["seconds"] = time.perf_counter() - t0
    return row, e


def check_task_targets(job: Job, model: Any) -> None:
    """Refuse ``targets='true'`` for a task other than classification (a detection's targets are boxes, which an
    item's class label does not name): one :class:`InputError`. ``model``: the loaded model."""
    from peephole.tasks import declared_task, get_task

    task = get_task(job.task if job.task is not None else declared_task(model)).name
    if job.targets == "true" and task != "classification":
        raise InputError(f"targets='true' is for classification; a {task} run explains the boxes it finds (targets='predicted')")


def _explain(explain: Any, model: Any, job: Job, item: Item, x: Any) -> tuple[Explanation, int | None]:
    check_task_targets(job, model)
    names = getattr(model, "class_names", None)
    targets = job.targets
    truth = true_class(item.label, names, len(names) if names is not None else 1 << 30)
    if targets == "true":
        if truth is None:
            shared = classes_named(str(item.label).strip(), names) if item.label is not None else []
            why = f"{item.label!r} names classes {', '.join(map(str, shared))}: write its index" if shared else repr(item.label)
            raise InputError(f"targets='true' but item {item.id!r} has no true label the model knows ({why})")
        targets = [truth]
    elif targets == "predicted":
        targets = None
    e = explain(
        model,
        x,
        job.method,
        modality=job.modality,
        targets=targets,
        top_k=job.top_k,
        batch_size=job.batch_size,
        seed=job.seed,
        task=job.task,
        **job.options,
    )
    if truth is not None and (e.task != "classification" or truth >= len(e.probabilities)):
        truth = None  # a detection's outputs are boxes: a class label marks none of them right or wrong
    return e, truth


def _metrics(model: Any, job: Job, e: Explanation) -> dict[str, float]:
    from peephole.metrics.curves import perturbation_curve

    t = e.targets[0]
    bs = job.batch_size or 32
    task = job.task if job.task is not None else e.task  # a detection's curve scores the same reference box
    return {
        m: round(perturbation_curve(model, e.input, e.maps[0], t, m, batch_size=bs, modality=job.modality, task=task).auc, 6)
        for m in job.metrics
    }


def _source(item: Item) -> str:
    """What a row records of its item's input: a path or text, else what it is (image bytes, an array, a bad row)."""
    if isinstance(item.source, str):
        return storable(item.source)
    if isinstance(item.source, (bytes, bytearray)):
        return f"<image of {len(item.source):,} bytes>"
    if isinstance(item.source, BadRow):
        return storable(item.source.where)
    return f"<array of shape {np.shape(item.source)}>"
