"""Queries of several inputs packed into shared model batches.

Each input's method runs in its own thread (:meth:`Packer.map`) and calls the packer as it would call the model. A
call waits until every running input is waiting for its queries, or until the waiting queries fill a batch; then one
thread calls the model on all of them together (in calls of at most ``batch_size`` rows) and hands every input its
own rows. Nothing a method computes changes — its batches are the ones it asked for — so each input's maps are the
ones it gets alone (for a model whose rows do not depend on each other: any model in eval mode); only the number of
model calls drops. Rows the model fails on are sent again request by request, so one input's bad batch is that
input's error, not its neighbours'; inputs of different sizes cannot share a call, and are sent one by one.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import Any, TypeVar

import numpy as np

from peephole.core.query import MAX_BATCH_BYTES

T = TypeVar("T")

#: Inputs explained at once by :meth:`Packer.map` (each holds its partition and one batch of perturbed inputs).
PACK_WORKERS = 16
#: Rows per model call unless ``batch_size`` says otherwise, and the bytes a call's joined array rows may hold
#: (the image modality's automatic batch: at most 64 inputs, 256 MiB).
PACK_ROWS, PACK_BYTES = 64, 256 * 2**20


class _Request:
    """One waiting call: its batch, and then its output or the error the model raised on it."""

    def __init__(self, batch: Any) -> None:
        self.batch, self.out, self.error, self.done = batch, None, None, False


class Packer:
    """``packer(batch)``: ``model(batch)``, called on the batches of every thread of :meth:`map` together."""

    def __init__(self, model: Callable[[Any], Any], batch_size: int | None = None) -> None:
        self.model = model
        self.batch_size = batch_size  #: rows per model call at most (None: PACK_ROWS, and no more than PACK_BYTES)
        self.n_calls = 0  #: model calls made
        self._cond = threading.Condition()
        self._waiting: list[_Request] = []
        self._members = 0  #: threads of :meth:`map` running an input
        self._busy = False

    def __call__(self, batch: Any) -> Any:
        req = _Request(batch)
        with self._cond:
            self._waiting.append(req)
            while not req.done:
                if self._busy or not self._ready():
                    self._cond.wait()
                    continue
                take, self._waiting, self._busy = self._waiting, [], True
                self._cond.release()  # the model runs without the lock: other threads may queue their next requests
                try:
                    self._call(take)
                finally:
                    self._cond.acquire()
                    self._busy = False
                    self._cond.notify_all()
        if req.error is not None:
            raise req.error
        return req.out

    def _ready(self) -> bool:
        rows = sum(len(r.batch) for r in self._waiting)
        return bool(self._waiting) and (len(self._waiting) >= self._members or rows >= (self.batch_size or float("inf")))

    def _call(self, take: list[_Request]) -> None:
        """The waiting requests' rows joined and sent in calls of at most ``batch_size`` rows; every request its
        own rows back. When the rows cannot be joined or a call fails, each request is sent alone."""
        sizes = [len(r.batch) for r in take]
        if len(take) > 1 and sum(getattr(r.batch, "nbytes", 0) for r in take) > MAX_BATCH_BYTES:
            for r in take:  # joined, they would pass the bound on one call's inputs: each is called alone
                self._call([r])
            return
        try:
            rows = concat([r.batch for r in take]) if len(take) > 1 else take[0].batch
            limit = self.batch_size or max(1, min(PACK_ROWS, PACK_BYTES // max(1, getattr(rows, "nbytes", 0) // len(rows))))
            limit = max(limit, max(sizes)) if self.batch_size is None else limit  # a method's own batch is never split
            outs = []
            for a in range(0, len(rows), limit):
                self.n_calls += 1
                out = self.model(rows[a : a + limit] if len(rows) > limit else rows)
                if len(take) > 1 and (not hasattr(out, "__len__") or len(out) != min(limit, len(rows) - a)):
                    raise ValueError("the output has not one row per input")  # cannot be split: each request alone
                outs.append(out)
            out = concat(outs) if len(outs) > 1 else outs[0]
        except Exception as exc:  # noqa: BLE001 - the model is a black box: its error is the request's
            if len(take) == 1:
                take[0].error, take[0].done = exc, True
                return
            for r in take:
                self._call([r])
            return
        start = 0
        for r, n in zip(take, sizes):
            r.out, r.done = (out if len(take) == 1 else out[start : start + n]), True
            start += n

    def map(self, jobs: Sequence[Callable[[], T]], workers: int = PACK_WORKERS) -> list[T | BaseException]:
        """Run every job (each calls this packer as its model) in threads, at most ``workers`` at once; each job's
        result or the exception it raised, in order."""

        unfinished = len(jobs)
        workers = max(1, min(workers, unfinished))

        def member(job: Callable[[], T]) -> T | BaseException:
            nonlocal unfinished
            try:
                return job()
            except Exception as exc:  # noqa: BLE001 - one input's failure is that input's result
                return exc
            finally:
                with self._cond:
                    unfinished -= 1
                    self._members = min(workers, unfinished)  # a thread takes the next job while jobs are left
                    self._cond.notify_all()  # the others may now be all that is left: their queries go

        if not jobs:
            return []
        with self._cond:
            self._members = workers  # counted before any starts: the first to ask waits for the others
        with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="peephole-pack") as pool:
            return list(pool.map(member, jobs))


def concat(batches: list[Any]) -> Any:
    """Batches of one kind joined along their first axis: NumPy arrays, torch tensors (on their device), lists."""
    first = batches[0]
    if isinstance(first, np.ndarray):
        return np.concatenate(batches)
    if hasattr(first, "detach"):  # a torch tensor, without importing torch here
        import torch

        return torch.cat(batches)
    return [row for b in batches for row in b]


class Packed:
    """A model adapter whose calls go through a :class:`Packer`; every other attribute is the adapter's own."""

    def __init__(self, model: Any, packer: Packer) -> None:
        self._model, self._packer = model, packer

    def __call__(self, batch: Any) -> Any:
        return self._packer(batch)

    def __getattr__(self, name: str) -> Any:
        if name.startswith("__") or name in ("_model", "_packer"):  # not yet set (a copy being made): not the model's
            raise AttributeError(name)
        return getattr(self._model, name)
