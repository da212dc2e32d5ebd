"""Tasks: what a model's output means and what an explanation explains (see :class:`Task`).

``peephole.explain(..., task=...)`` takes a name from :data:`TASKS` or a :class:`Task` object; unset, the
task is what the model declares (a ``task`` attribute naming one of :data:`TASKS`, or a Task), else
classification.
"""

from __future__ import annotations

from typing import Any

from peephole.errors import InputError
from peephole.tasks.base import Scorer, Task
from peephole.tasks.classification import Classification, classification_query, resolve_targets
from peephole.tasks.detection import Detection
from peephole.tasks.segmentation import Segmentation

#: Task classes by name (each is built with its defaults, then bound to the model).
TASKS: dict[str, type[Task]] = {"classification": Classification, "detection": Detection, "segmentation": Segmentation}
DEFAULT_TASK = "classification"


def get_task(name: str | Task | None = None) -> Task:
    """The task called ``name`` (``None``: classification), or ``name`` itself when it is a :class:`Task`."""
    if name is None:
        name = DEFAULT_TASK
    if isinstance(name, Task):
        return name
    if isinstance(name, type) and issubclass(name, Task):
        return name()
    if not isinstance(name, str) or name not in TASKS:
        raise InputError(f"unknown task {name!r}; valid tasks: {sorted(TASKS)} (or a peephole.tasks.Task object)")
    return TASKS[name]()


def task_with(name: str | None, threshold: float | None = None, segments: str | None = None) -> str | Task | None:
    """The task a command line names: ``name``, or with a ``threshold`` (the score a reference box needs) or
    ``segments`` (a segmenter's instance or panoptic segments) the detection task with them; an InputError for
    either with another task."""
    if threshold is None and segments is None:
        return name
    if name not in (None, "detection"):
        flag = "--threshold" if threshold is not None else "--segments"
        raise InputError(f"{flag} is the detection task's (what it explains box by box); --task is {name}")
    return Detection(threshold=threshold, segments=segments)


def declared_task(model: Any) -> str | Task | None:
    """The task ``model`` declares: a :class:`Task` or one of :data:`TASKS` in its ``task`` attribute; None when
    it declares none.

    A ``transformers`` object's ``task`` is Hugging Face's vocabulary (``'text-classification'``,
    ``'sentiment-analysis'``, ...), not Peephole's: it declares nothing (Peephole's adapters explain such models as
    classifiers). Any other string that names no task is an :class:`InputError` (``task=`` overrides it).
    """
    declared = getattr(model, "task", None)
    if isinstance(declared, Task) or (isinstance(declared, type) and issubclass(declared, Task)):
        return declared
    if not isinstance(declared, str) or declared in TASKS:
        return declared if isinstance(declared, str) else None
    if type(model).__module__.split(".")[0] == "transformers":
        return None
    raise InputError(
        f"the model declares task {declared!r}; valid tasks: {sorted(TASKS)} (pass task= to explain it as one of them)"
    )


__all__ = [
    "DEFAULT_TASK",
    "TASKS",
    "Classification",
    "Detection",
    "Scorer",
    "Segmentation",
    "Task",
    "classification_query",
    "declared_task",
    "get_task",
    "task_with",
    "resolve_targets",
]
