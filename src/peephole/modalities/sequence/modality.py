"""Sequences: signals / time series ``(T,)`` or ``(T, C)`` and tabular rows ``(F,)``; axis 0 is partitioned."""

from __future__ import annotations

from typing import Any

import numpy as np

from peephole.core.partition import Partition
from peephole.core.perturb import Masker
from peephole.core.query import to_numpy
from peephole.errors import InputError
from peephole.modalities.base import MaskerSpec, Modality, PartitionSpec
from peephole.modalities.sequence.maskers import ConstantBaseline, make_sequence_masker
from peephole.modalities.sequence.partitions import WindowOptions, feature_groups, singletons, windows
from peephole.modalities.sequence.view import SequenceView


class SequenceModality(Modality):
    """Partitions: ``'windows'`` (``window`` positions every ``stride``), ``'single'`` (each position), feature
    groups (``{'age': [0], 'address': [3, 4, 5]}`` or index lists) or a :class:`Partition`. Maskers: a
    number or ``'mean'`` / ``'median'`` (per channel), per-position values, or a :class:`Masker`."""

    name = "sequence"
    partitions = {
        "windows": PartitionSpec(
            "windows",
            lambda x, o, seed: windows(x.shape[0], o.window, o.stride),
            WindowOptions,
            "sliding windows of positions",
            sized=lambda x, o: o.sized(x.shape[0]),
        ),
        "single": PartitionSpec("single", lambda x, o, seed: singletons(x.shape[0]), help="one part per position"),
    }
    maskers = {
        v: MaskerSpec(v, lambda o, v=v: ConstantBaseline(v), help=f"hidden positions take the {v} of x (per channel)")
        for v in ("mean", "median")
    }
    default_partition = "windows"
    smaller_parts = (
        "partition='single' (each position or feature: a tabular row) or 'windows' with a window below the input's length"
    )
    default_masker = 0.0

    def load(self, x: Any, allow_large: bool = False) -> np.ndarray:
        try:
            arr = np.asarray(to_numpy(x))  # a tensor detached, on the host
        except (TypeError, ValueError, RuntimeError) as exc:  # a ragged list, a sparse tensor
            raise InputError(f"expected a signal (T,) / (T, C) or a row (F,), got {type(x).__name__} ({exc})") from exc
        if arr.ndim not in (1, 2) or arr.shape[0] == 0:
            raise InputError(f"expected a signal (T,) / (T, C) or a row (F,), got shape {arr.shape}")
        if arr.dtype.kind not in "iuf":  # complex too: masking and the model's real scores would drop its imaginary part
            raise InputError(f"expected real numbers, got dtype {arr.dtype}")
        if not np.isfinite(arr).all():
            raise InputError("the input holds NaN or inf")
        return arr

    def batch_of_one(self, x: np.ndarray) -> np.ndarray:
        return x[None]

    def partition_of(self, x: np.ndarray, spec: Any, seed: int = 0) -> Partition:
        length = x.shape[0]
        if isinstance(spec, Partition):
            if spec.shape != (length,):
                raise InputError(f"partition of shape {spec.shape} does not match the input ({length} positions)")
            return spec
        return feature_groups(length, spec)

    def masker_of(self, spec: Any) -> Masker:
        """A number (:class:`ConstantBaseline`) or per-position values (:class:`FeatureBaseline`)."""
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

    def report_view(self, explanation: Any, cls: int, vrange: tuple[float, float] | None = None) -> np.ndarray:
        from peephole.modalities.sequence.report import class_picture

        return class_picture(explanation, cls, vrange)

    def detail_lines(self, explanation: Any, colour: bool = False, score: Any = None) -> list[str]:
        from peephole.modalities.sequence.report import lines

        return lines(explanation, colour)

    def map_shape(self, x: np.ndarray) -> tuple[int, ...]:
        return (int(np.shape(x)[0]),)

    def curve_masker(self, mode: str) -> Masker:
        """Positions not yet inserted / already deleted take the default baseline (0)."""
        return self.masker(self.default_masker)
