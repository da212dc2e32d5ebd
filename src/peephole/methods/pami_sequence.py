"""PAMI on 1-D arrays: signals / time series ``(T,)`` or ``(T, C)`` with window partitions, and tabular
rows ``(F,)`` with feature groups. Hidden positions take a constant or per-feature baseline."""

from __future__ import annotations

from collections.abc import Sequence
from time import perf_counter
from typing import Any

import numpy as np

from peephole.engine.partition import Partition
from peephole.engine.perturb import Masker
from peephole.engine.run import run
from peephole.errors import InputError
from peephole.methods.setup_any import prepare_any, resolve_target_names
from peephole.models.base import as_model
from peephole.sequence.explanation import SequenceExplanation
from peephole.sequence.maskers import ConstantBaseline, FeatureBaseline
from peephole.sequence.partitions import feature_groups, singletons, windows


def make_sequence_partition(
    length: int,
    partition: str | Partition | dict[str, Sequence[int]] | Sequence[Sequence[int]],
    window: int,
    stride: int,
) -> Partition:
    """``'windows'`` (``window`` positions every ``stride``), ``'single'`` (each position), feature groups, or a Partition."""
    if isinstance(partition, Partition):
        if partition.shape != (length,):
            raise InputError(f"partition of shape {partition.shape} does not match the input ({length} positions)")
        return partition
    if partition == "windows":
        return windows(length, window, stride)
    if partition == "single":
        return singletons(length)
    if isinstance(partition, str):
        raise InputError(f"unknown partition {partition!r}; use 'windows', 'single', feature groups or a Partition")
    return feature_groups(length, partition)


def make_sequence_masker(masker: float | str | Sequence[float] | np.ndarray | Masker) -> Masker:
    """A number or ``'mean'``/``'median'`` (:class:`ConstantBaseline`), per-position values
    (:class:`FeatureBaseline`), or a :class:`Masker`."""
    if isinstance(masker, Masker):
        return masker
    if isinstance(masker, (str, int, float)):
        return ConstantBaseline(masker)
    return FeatureBaseline(masker)


def pami_sequence(
    model: Any,
    x: Any,
    partition: str | Partition | dict[str, Sequence[int]] | Sequence[Sequence[int]] = "windows",
    masker: float | str | Sequence[float] | np.ndarray | Masker = 0.0,
    targets: int | str | Sequence[int | str] | None = None,
    top_k: int = 1,
    batch_size: int | None = None,
    window: int = 8,
    stride: int = 2,
    output: str | None = None,
    class_names: Sequence[str] | None = None,
    progress: bool = False,
) -> SequenceExplanation:
    """Explain ``model`` (``(B, *x.shape) -> (B, K)``) on a signal or tabular row ``x``; one score per position."""
    t0 = perf_counter()
    arr = np.asarray(x)
    if arr.ndim not in (1, 2) or arr.shape[0] == 0:
        raise InputError(f"expected a signal (T,) / (T, C) or a row (F,), got shape {arr.shape}")
    if not np.issubdtype(arr.dtype, np.number):
        raise InputError(f"expected numbers, got dtype {arr.dtype}")
    if not np.isfinite(arr).all():
        raise InputError("the input holds NaN or inf")
    m = as_model(model, output=output, class_names=class_names)
    s = prepare_any(m, arr[None], resolve_target_names(targets, m.class_names), top_k, batch_size)
    part = make_sequence_partition(arr.shape[0], partition, window, stride)
    res = run(s.query, arr, part, make_sequence_masker(masker), s.targets, s.batch_size, progress, desc="PAMI sequence")
    return s.explanation(
        SequenceExplanation,
        "pami-sequence",
        arr,
        res.maps,
        res.scores,
        first_run_maps=res.maps,
        timings={**res.timings, "total": perf_counter() - t0},
        partition=part,
        params={
            "partition": partition if isinstance(partition, str) else type(part).__name__,
            "window": window,
            "stride": stride,
            "batch_size": s.batch_size,
            "n_parts": part.n_parts,
            "part_names": getattr(part, "names", None),
        },
    )
