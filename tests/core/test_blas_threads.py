"""numpy's BLAS thread count is limited during aggregation and restored afterwards, also when several
``explain()`` calls overlap in threads (it used to stay at 1 for the rest of the process)."""

from __future__ import annotations

import numpy as np
from threadpoolctl import threadpool_info
from threads import errors_of_threads

import peephole
from peephole.core.run import _NUMPY_BLAS, single_threaded_blas


def blas_threads() -> dict[str, int]:
    """Threads of numpy's own BLAS (the one the engine limits; torch or scipy may load others later)."""
    mine = {lib.filepath for lib in _NUMPY_BLAS.lib_controllers if lib.user_api == "blas"}
    return {m["filepath"]: m["num_threads"] for m in threadpool_info() if m["filepath"] in mine}


def test_interleaved_entries_and_exits_restore_the_original_limit() -> None:
    before = blas_threads()
    a, b = single_threaded_blas(), single_threaded_blas()
    a.__enter__()
    b.__enter__()  # a second thread enters while the first is inside
    assert all(n == 1 for n in blas_threads().values())
    a.__exit__(None, None, None)  # the first leaves before the second
    assert all(n == 1 for n in blas_threads().values()), "the limit must hold while anyone is inside"
    b.__exit__(None, None, None)
    assert {k: v for k, v in blas_threads().items() if k in before} == before


def test_concurrent_explain_calls_leave_blas_threads_as_they_were() -> None:
    before = blas_threads()
    img = np.random.default_rng(0).random((48, 48, 3)).astype(np.float32)

    def model(b):
        m = b.mean(axis=(1, 2, 3))
        return np.stack([m, 1 - m], axis=1)

    def work() -> None:
        for _ in range(3):
            peephole.explain(model, img, partition="window", radius=8, stride=4, batch_size=4, output="probs")

    assert not errors_of_threads(work, 4)
    assert {k: v for k, v in blas_threads().items() if k in before} == before
