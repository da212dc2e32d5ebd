"""The task seam: what a model's output means, and which of its outputs an explanation explains.

A perturbation method never reads a model's output itself. The :class:`Task` turns the output on the
unperturbed input into the *reference* (classification: the class probabilities), resolves the targets
against it, and gives :class:`peephole.core.Query` the functions that check every batch output
(:meth:`Task.validate`) and turn it into ``(B, C)`` scores (:meth:`Task.scorer`), one column per
explainable output, indexed by the targets. Maps are aggregated from those columns (Eq. 1).
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from peephole.core.query import as_array

#: ``scorer(checked_output, what) -> (B, C)`` float64 scores (see :meth:`Task.scorer`).
Scorer = Callable[[Any, str], np.ndarray]


class Task(ABC):
    """What is explained about a model's output.

    The pipeline calls, in order: :meth:`bind` (once, with the wrapped model), :meth:`validate` on the output of
    the unperturbed input (``n = 1``), :meth:`reference` on that checked output, :meth:`targets`, then
    :meth:`scorer`; every later batch goes through ``validate`` and the scorer (:class:`peephole.core.Query`).
    """

    name: str = "task"

    def bind(self, model: Any) -> Task:
        """This task configured for ``model`` (e.g. what the model declares it returns); default: itself."""
        return self

    def adapt(self, model: Any) -> Any:
        """The user's model object as this task's model adapter, before the modality wraps it; default: as given."""
        return model

    def validate(self, raw: Any, n: int, what: str) -> Any:
        """The model's raw output on ``n`` inputs (tensors already NumPy), checked; a :class:`ModelError` naming
        ``what`` otherwise. Default: a finite float64 array with ``n`` rows (:func:`peephole.core.query.as_array`)."""
        return as_array(raw, n, what)

    @abstractmethod
    def reference(self, out: Any) -> np.ndarray:
        """The task's view of the checked output on the one unperturbed input: a 1-D array, one value per
        explainable output (``Explanation.probabilities``; targets index it)."""

    @abstractmethod
    def targets(self, reference: np.ndarray, targets: Any, top_k: int, class_names: Sequence[str] | None) -> list[int]:
        """What to explain: the given ``targets`` checked against ``reference``, or the task's default."""

    @abstractmethod
    def scorer(self, reference: np.ndarray, targets: Sequence[int]) -> Scorer:
        """``score(checked_batch_output, what) -> (B, C)`` float64: column ``t`` is output ``t``'s score, so the
        targets' scores are ``scores[:, targets]`` (``C = len(reference)``; all of them are kept in
        ``Explanation.scores``, which is what lets :meth:`~peephole.result.Explanation.map_for` rebuild any map)."""

    def output_names(self, class_names: Sequence[str] | None) -> list[str] | None:
        """A name per explainable output (``Explanation.class_names``); default: the model's class names."""
        return None if class_names is None else list(class_names)

    def extras(self) -> dict[str, np.ndarray]:
        """Arrays the result keeps about the reference (``Explanation.extras``); default: none."""
        return {}

    def __repr__(self) -> str:
        return f"{type(self).__name__}()"
