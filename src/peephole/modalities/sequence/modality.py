"""Sequences: signals / time series ``(T,)`` or ``(T, C)`` and tabular rows ``(F,)``; axis 0 is partitioned."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from peephole.core.partition import Partition
from peephole.core.perturb import Masker
from peephole.errors import InputError
from peephole.modalities.base import Modality
from peephole.modalities.sequence.maskers import make_sequence_masker
from peephole.modalities.sequence.partitions import feature_groups, singletons, windows
from peephole.modalities.sequence.view import SequenceView


class SequenceModality(Modality):
    """Partitions: ``'windows'`` (``window`` positions every ``stride``), ``'single'`` (each position), feature
    groups (``{'age': [0], 'address': [3, 4, 5]}`` or index lists) or a :class:`Partition`. Maskers: a
    number or ``'mean'`` / ``'median'`` (per channel), per-position values, or a :class:`Masker`."""

    name = "sequence"
    default_partition = "windows"
    default_masker = 0.0
    partition_options = {"window": 8, "stride": 2}

    def load(self, x: Any, allow_large: bool = False) -> np.ndarray:
        arr = np.asarray(x)
        if arr.ndim not in (1, 2) or arr.shape[0] == 0:
            raise InputError(f"expected a signal (T,) / (T, C) or a row (F,), got shape {arr.shape}")
        if not np.issubdtype(arr.dtype, np.number):
            raise InputError(f"expected numbers, got dtype {arr.dtype}")
        if not np.isfinite(arr).all():
            raise InputError("the input holds NaN or inf")
        return arr

    def batch_of_one(self, x: np.ndarray) -> np.ndarray:
        return x[None]

    def partition(self, x: np.ndarray, spec: Any, seed: int = 0, **options: Any) -> Partition:
        o = self.check_partition_options(options)
        length = x.shape[0]
        if isinstance(spec, Partition):
            if spec.shape != (length,):
                raise InputError(f"partition of shape {spec.shape} does not match the input ({length} positions)")
            return spec
        if spec == "windows":
            return windows(length, o["window"], o["stride"])
        if spec == "single":
            return singletons(length)
        if isinstance(spec, str):
            raise InputError(f"unknown partition {spec!r}; use 'windows', 'single', feature groups or a Partition")
        return feature_groups(length, spec)

    def masker(self, spec: float | str | Sequence[float] | np.ndarray | Masker) -> Masker:
        return make_sequence_masker(spec)

    def view(self, explanation: Any) -> SequenceView:
        return SequenceView(explanation)

    # --- datasets, runs, reports, curves, the command line (see Modality) ---

    def read_items(self, source: Any, column: str | None = None, labels: str | None = None, asked: bool = False) -> list:
        from pathlib import Path

        from peephole.modalities.sequence.items import read_sequence_items

        return read_sequence_items(Path(source), column, labels, asked)

    def holds(self, x: Any) -> bool:
        from peephole.modalities.sequence.items import holds_sequence

        return holds_sequence(x)

    def load_item(self, source: Any, **work: Any) -> np.ndarray:
        from peephole.modalities.sequence.items import load_sequence_item

        return load_sequence_item(source)

    def report_view(self, explanation: Any, cls: int) -> np.ndarray:
        from peephole.modalities.sequence.report import class_picture

        return class_picture(explanation, cls)

    def detail_lines(self, explanation: Any, colour: bool = False) -> list[str]:
        from peephole.modalities.sequence.report import lines

        return lines(explanation, colour)

    def map_shape(self, x: np.ndarray) -> tuple[int, ...]:
        return (int(np.shape(x)[0]),)

    def curve_masker(self, mode: str) -> Masker:
        """Positions not yet inserted / already deleted take the default baseline (0)."""
        return self.masker(self.default_masker)
