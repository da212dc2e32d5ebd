"""The PAMI loop: stream parts batch by batch through perturb -> query -> aggregate.

Masks are built lazily per batch, so memory is bounded by the batch size, never by the number
of parts. The model output of every part is kept (``scores``, ``n_parts × n_classes``) so the map
of any other class can be aggregated later without one more query (:func:`aggregate`).
"""

from __future__ import annotations

import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from hashlib import blake2b
from time import perf_counter
from typing import Any

import numpy as np
from threadpoolctl import ThreadpoolController
from tqdm.auto import tqdm

from peephole.core.aggregate import Aggregator, Eq1Aggregator
from peephole.core.partition import Partition
from peephole.core.perturb import Masker
from peephole.core.query import Query
from peephole.core.state import class_path

# numpy's own BLAS, found once. Aggregation matmuls are small: run multi-threaded between two model
# calls, OpenBLAS's workers busy-wait afterwards and take cores from the next forward pass (measured:
# PAMI's model calls ran ~30% slower than bare ones on 2 cores until aggregation used one thread).
_NUMPY_BLAS = ThreadpoolController()
_BLAS_LOCK = threading.Lock()
_BLAS_USERS = 0
_BLAS_LIMITER: Any = None


@contextmanager
def single_threaded_blas() -> Iterator[None]:
    """numpy's BLAS limited to one thread while any caller is inside; the first entry sets the limit and
    the last exit restores it, so concurrent ``explain()`` calls leave the thread count as they found it
    (nested ``threadpool_limits`` from several threads would restore each other's limit of 1)."""
    global _BLAS_USERS, _BLAS_LIMITER
    with _BLAS_LOCK:
        if _BLAS_USERS == 0:
            _BLAS_LIMITER = _NUMPY_BLAS.limit(limits=1, user_api="blas")
        _BLAS_USERS += 1
    try:
        yield
    finally:
        with _BLAS_LOCK:
            _BLAS_USERS -= 1
            if _BLAS_USERS == 0:
                _BLAS_LIMITER.restore_original_limits()
                _BLAS_LIMITER = None


@dataclass
class RunResult:
    maps: np.ndarray  #: (n_targets, *shape) importance maps
    scores: np.ndarray  #: (n_parts, n_classes) model output on every perturbed input
    n_queries: int  #: model queries this run made
    timings: dict[str, float] = field(default_factory=dict)  #: seconds per stage
    aggregator: dict[str, Any] = field(default_factory=dict)  #: {"class": import path, "params": ...} (saved with a result)


def run(
    query: Query,
    x: Any,
    partition: Partition,
    masker: Masker,
    targets: Sequence[int],
    batch_size: int,
    progress: bool = False,
    aggregator: type[Aggregator] = Eq1Aggregator,
    params: dict[str, Any] | None = None,
    reference: np.ndarray | None = None,
    desc: str = "PAMI",
    seen: dict[bytes, np.ndarray] | None = None,
    reuse: np.ndarray | None = None,
) -> RunResult:
    """Run partition -> perturb -> query -> aggregate over all parts of ``partition``.

    ``aggregator(partition, reference, **params)`` turns the outputs into maps; ``reference`` holds
    ``f_k(x)`` of the targets (needed by aggregators that measure a drop, e.g. occlusion). A keep-mask
    that repeats an earlier one exactly (two segmentations finding the same superpixel) is queried once:
    its output is reused, so the maps are identical and ``n_queries`` counts distinct inputs only
    (``seen``: share that memory across runs on the same input and masker, e.g. adaptive PAMI's groups).
    ``reuse[j] = i ≤ j``: part j is not queried but takes part i's output (near-repeats merged,
    :func:`peephole.core.partition.near_repeats`); it is still aggregated with its own mask.
    """
    if batch_size < 1:
        raise ValueError(f"batch_size must be >= 1, got {batch_size}")
    timings = dict.fromkeys(("bind", "partition", "perturb", "query", "aggregate"), 0.0)
    t = perf_counter()
    bound = masker.bind_to(x, getattr(query.model, "arrays", None))  # built where the model takes its inputs
    timings["bind"] = perf_counter() - t
    targets = list(targets)
    ref = np.zeros(len(targets)) if reference is None else np.asarray(reference, np.float64)
    agg = aggregator(partition, ref, **(params or {}))
    n, before = partition.n_parts, query.n_queries
    chunks: list[np.ndarray] = []
    seen = {} if seen is None else seen  # keep-mask digest -> its output row
    rep_key: dict[int, bytes] = {}  # a representative part -> its digest (``reuse``)
    if reuse is not None and (len(reuse) != n or (np.asarray(reuse) > np.arange(n)).any()):
        raise ValueError(f"reuse must give every one of the {n} parts an earlier or the same part")
    for start in tqdm(range(0, n, batch_size), desc=desc, unit="batch", disable=not progress, leave=False):
        stop = min(start + batch_size, n)
        t0 = perf_counter()
        with single_threaded_blas():  # a partition's own matmuls: OpenBLAS workers would spin into the next forward pass
            masks = partition.masks(start, stop)
        t1 = perf_counter()
        keys = [blake2b(np.packbits(m).tobytes(), digest_size=16).digest() for m in masks] if masks.dtype == bool else None
        if keys is None and reuse is not None:
            raise ValueError("reuse needs boolean keep-masks (a soft partition cannot merge parts)")
        if keys is not None and reuse is not None:  # a merged part takes its representative's key (an earlier part)
            for i, j in enumerate(range(start, stop)):
                keys[i] = rep_key.setdefault(j, keys[i]) if reuse[j] == j else rep_key[reuse[j]]
        fresh = (
            list(range(len(masks))) if keys is None else [i for i, k in enumerate(keys) if k not in seen and k not in keys[:i]]
        )
        with single_threaded_blas():
            batch = bound(masks[fresh]) if fresh else None
        t2 = perf_counter()
        new = query(batch, what=f"parts {start}..{stop - 1}") if fresh else None
        if keys is None:
            out = new
        else:
            seen.update((keys[i], row) for i, row in zip(fresh, new if new is not None else []))
            out = np.stack([seen[k] for k in keys])
        t3 = perf_counter()
        with single_threaded_blas():
            agg.add(start, masks, out[:, targets])
        t4 = perf_counter()
        chunks.append(out.astype(np.float32))
        timings["partition"] += t1 - t0
        timings["perturb"] += t2 - t1
        timings["query"] += t3 - t2
        timings["aggregate"] += t4 - t3
    scores = np.concatenate(chunks) if chunks else np.zeros((0, query.n_classes or 0), np.float32)
    spec = {"class": class_path(agg), "params": agg.params}
    return RunResult(agg.maps(), scores, query.n_queries - before, timings, spec)


def aggregate(
    partition: Partition,
    scores: np.ndarray,
    reference: np.ndarray | None = None,
    aggregator: type[Aggregator] = Eq1Aggregator,
    params: dict[str, Any] | None = None,
    batch_size: int = 64,
) -> np.ndarray:
    """Maps ``(K', *shape)`` from stored per-part ``scores`` ``(n_parts, K')``: no model query."""
    if len(scores) != partition.n_parts:
        raise ValueError(f"{len(scores)} score rows for {partition.n_parts} parts")
    ref = np.zeros(scores.shape[1]) if reference is None else np.asarray(reference, np.float64)
    agg = aggregator(partition, ref, **(params or {}))
    for start in range(0, partition.n_parts, batch_size):
        stop = min(start + batch_size, partition.n_parts)
        agg.add(start, partition.masks(start, stop), scores[start:stop])
    return agg.maps()
