"""The one-call facade: ``peephole.explain(model, x, method=...)`` for every method and input kind."""

from __future__ import annotations

import sys
from collections.abc import Sequence
from dataclasses import replace
from typing import Any

from peephole.core.pack import Packed, Packer
from peephole.errors import PeepholeError
from peephole.modalities import declared_modality, get_modality
from peephole.models.base import use_device
from peephole.pipeline import DEFAULT_TOP_K, Request, check_function_options, resolve_task
from peephole.registry import DEFAULT_METHODS, get_method
from peephole.result import Explanation
from peephole.tasks import Task


def explain(
    model: Any,
    x: Any,
    method: str | None = None,
    *,
    modality: str | None = None,
    targets: Any = None,
    top_k: int = DEFAULT_TOP_K,
    batch_size: int | None = None,
    seed: int = 0,
    progress: bool | None = None,
    output: str | None = None,
    class_names: Sequence[str] | None = None,
    allow_large: bool = False,
    task: str | Task | None = None,
    device: Any = None,
    **options: Any,
) -> Explanation | list[Explanation | PeepholeError]:
    """Explain ``model``'s prediction on ``x`` with ``method`` (see :data:`peephole.registry.METHODS`; unset:
    the input kind's default, :data:`peephole.registry.DEFAULT_METHODS` — ``'pami-path'`` on images).

    ``model``: a :class:`peephole.models.Model`, a model name (``'efficientnet-lite0'``, ``'vader'``,
    ``'minilm'``), an ``.onnx`` path, a torch module or a callable (declare ``output='probs'|'logits'|'scores'``).
    The input kind is ``modality`` if given, else what the model declares, else ``'image'`` — never a
    guess from ``x``. ``targets``: class indices or names (default: the ``top_k`` predicted classes).
    An image above 640×640 pixels is resized to fit (with a warning saying what the full size would
    cost) unless ``allow_large=True``. Method options (``partition=``, ``masker=``, ``n_samples=``, ...)
    are checked against the method and the modality before anything runs.

    ``progress``: progress bars on stderr; unset, shown when stderr is a terminal or in a notebook.

    ``task``: what the model's output means (a name in :data:`peephole.tasks.TASKS` or a
    :class:`peephole.tasks.Task`); unset, what the model declares (its ``task`` attribute), else
    ``'classification'``. ``device``: where a torch model runs — unset, the device its parameters are on;
    the module itself is never moved (inputs go to it, outputs come back to the CPU).

    Several inputs — a list (texts: one holding a text of several words, or word lists; a list of single words
    is one text), or an image batch N×H×W×C / N×C×H×W (array or tensor) — give a list: one
    :class:`Explanation` per input, in order, or the :class:`~peephole.errors.PeepholeError` that input met (the
    others go through). A perturbation method explains them together: their queries are packed into shared model
    batches (:class:`peephole.core.pack.Packer`; up to ``batch_size`` queries per call when given), and each input's
    maps are the ones it gets alone.
    """
    if progress is None:  # bars where someone watches (a terminal, a notebook), not in a log file
        progress = sys.stderr.isatty() or "ipykernel" in sys.modules
    mod = get_modality(modality or declared_modality(model) or "image")
    spec = get_method(DEFAULT_METHODS[mod.name] if method is None else method)
    spec.check(options, mod)
    check_function_options(spec.function, options)
    req = Request(model, x, mod, targets, top_k, batch_size, seed, progress, output, class_names, allow_large, task, device)
    task = resolve_task(req)
    spec.check_task(task.name)  # an unknown task, or one the method cannot explain: before anything runs
    inputs = mod.split(x)
    if inputs is None:
        return spec.function(req, **options)
    if spec.family != "perturbation":  # a gradient method takes the module itself: one input after another
        return [_one(lambda i=i: spec.function(replace(req, input=i), **options)) for i in inputs]
    wrapped = mod.as_model(task.adapt(model), output, class_names)  # the task's adapter first (a callable detector)
    use_device(wrapped, device)
    packer = Packer(wrapped, batch_size)
    one = replace(req, model=Packed(wrapped, packer), output=None, class_names=None, device=None)
    return [_raised(r) for r in packer.map([lambda i=i: spec.function(replace(one, input=i), **options) for i in inputs])]


def _one(call: Any) -> Any:
    """``call()``, or the :class:`PeepholeError` it raised (one input's failure in a batch)."""
    try:
        return call()
    except PeepholeError as exc:
        return exc


def _raised(result: Any) -> Any:
    """A packed input's result; an error other than a :class:`PeepholeError` (a bug, not the input's) is raised."""
    if isinstance(result, BaseException) and not isinstance(result, PeepholeError):
        raise result
    return result
