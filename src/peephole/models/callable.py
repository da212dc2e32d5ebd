"""Adapter for any Python callable on a batch."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from peephole.core.query import OUTPUT_KINDS, to_numpy
from peephole.errors import InputError


class CallableModel:
    """``fn(batch) -> (N, n_classes)``; for images the batch is N×H×W×3 float32 in [0, 1]."""

    def __init__(
        self,
        fn: Callable[[Any], Any],
        output: str,
        class_names: Sequence[str] | None = None,
        batch_size: int | None = None,
        modality: str | None = None,
    ) -> None:
        if output not in OUTPUT_KINDS:
            raise InputError(f"output must be one of {OUTPUT_KINDS}, got {output!r}")
        self.fn, self.output = fn, output
        self.class_names = list(class_names) if class_names is not None else None
        self.preferred_batch_size = batch_size
        self.modality = modality  #: the input kind, if the caller declares one

    def __call__(self, batch: Any) -> np.ndarray:
        """What ``fn`` returns as an array, tensors detached and on the host first (:func:`~peephole.core.query.to_numpy`:
        a tensor that requires grad failed NumPy's conversion); a dict, tuple or list as such; the task checks it."""
        out = to_numpy(self.fn(batch))
        return out if isinstance(out, (dict, tuple, list)) else np.asarray(out)  # several outputs: the task names them
